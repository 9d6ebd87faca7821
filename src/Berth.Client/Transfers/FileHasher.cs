using System.Buffers;
using System.Security.Cryptography;
using Berth.Contracts.Naming;

namespace Berth.Client.Transfers;

/// <summary>SHA-256 of local files, streamed with large buffers.</summary>
public static class FileHasher
{
    internal const int BufferSize = 1024 * 1024;

    public static async Task<Digest> HashFileAsync(string path, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        using var file = OpenSequential(path);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await AppendAsync(hash, file, long.MaxValue, progress, cancellationToken).ConfigureAwait(false);
        return Digest.FromHash(hash.GetHashAndReset());
    }

    /// <summary>Feeds up to <paramref name="count"/> bytes of <paramref name="source"/> into the hash; returns how many were read.</summary>
    internal static async Task<long> AppendAsync(IncrementalHash hash, Stream source, long count, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            while (total < count)
            {
                var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count - total)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                total += read;
                progress?.Report(read);
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static FileStream OpenSequential(string path, long offset = 0)
    {
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read,
            BufferSize = 0,
            Options = FileOptions.SequentialScan | FileOptions.Asynchronous,
        });
        if (offset > 0)
        {
            stream.Seek(offset, SeekOrigin.Begin);
        }

        return stream;
    }
}
