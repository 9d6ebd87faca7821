using System.Buffers;
using System.Net;
using Microsoft.Win32.SafeHandles;

namespace Berth.Client.Transfers;

/// <summary>A request body of <paramref name="length"/> bytes of an open file from <paramref name="offset"/> (one part of a direct upload).</summary>
internal sealed class FileRangeContent(SafeFileHandle file, long offset, long length, IProgress<long>? progress) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(FileHasher.BufferSize);
        try
        {
            var position = offset;
            var end = offset + length;
            while (position < end)
            {
                var read = await RandomAccess.ReadAsync(file, buffer.AsMemory(0, (int)Math.Min(buffer.Length, end - position)), position, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"The file ended at byte {position}, before the part's end at {end}: it changed while it was being uploaded.");
                }

                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                position += read;
                progress?.Report(read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length1)
    {
        length1 = length;
        return true;
    }
}
