using System.Buffers;
using System.Security.Cryptography;
using Berth.Interop;
using Microsoft.Win32.SafeHandles;

namespace Berth.Client.Transfers;

/// <summary>
/// Copies a stream into a file while hashing it, with two buffers so that reading the next chunk
/// overlaps hashing and writing the previous one.
/// </summary>
internal static class HashingCopy
{
    public static async Task<long> CopyAsync(Stream source, SafeFileHandle destination, long offset, IncrementalHash hash, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        const int size = FileHasher.BufferSize;
        var first = ArrayPool<byte>.Shared.Rent(size);
        var second = ArrayPool<byte>.Shared.Rent(size);
        var pending = Task.CompletedTask;
        var position = offset;
        var window = new WritebackWindow(destination, offset);
        try
        {
            var current = first;
            while (true)
            {
                var read = await source.ReadAtLeastAsync(current.AsMemory(0, size), size, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                await pending.ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                pending = HashAndWriteAsync(destination, position, hash, current.AsMemory(0, read), progress, cancellationToken);
                position += read;
                window.Written(position - read);
                current = ReferenceEquals(current, first) ? second : first;
                if (read < size)
                {
                    break;
                }
            }

            await pending.ConfigureAwait(false);
            return position - offset;
        }
        finally
        {
            try
            {
                await pending.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Already reported through the await above, or superseded by the original failure.
            }

            ArrayPool<byte>.Shared.Return(first);
            ArrayPool<byte>.Shared.Return(second);
        }
    }

    private static async Task HashAndWriteAsync(SafeFileHandle destination, long position, IncrementalHash hash, ReadOnlyMemory<byte> data, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var write = RandomAccess.WriteAsync(destination, data, position, cancellationToken);
        hash.AppendData(data.Span);
        await write.ConfigureAwait(false);
        progress?.Report(data.Length);
    }
}
