using System.Security.Cryptography;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;

namespace Berth.Core.Backup;

/// <summary>What copying one blob between two content-addressed folders came to.</summary>
public enum BlobCopyResult
{
    /// <summary>Copied, and the copy hashes to its digest.</summary>
    Copied,

    /// <summary>The target already held the blob (of the right size): nothing was read.</summary>
    Present,

    /// <summary>The source has no bytes for the blob.</summary>
    Missing,

    /// <summary>The source's bytes are not the blob (wrong size or digest): nothing was written.</summary>
    Corrupt,
}

/// <summary>
/// Copies a blob from one folder laid out by <see cref="BlobPaths"/> to another, as backups and restores do: the bytes
/// are hashed while they are written to a temporary name, and only bytes that match the digest and size are fsynced
/// and renamed into place. A blob the target already holds with the right size is left alone (incremental backups).
/// </summary>
public static class VerifiedBlobCopy
{
    public static async Task<BlobCopyResult> CopyAsync(BlobPaths source, BlobPaths target, Digest digest, long size, CancellationToken cancellationToken)
    {
        var destination = target.Blob(digest);
        if (new FileInfo(destination) is { Exists: true } existing && existing.Length == size)
        {
            return BlobCopyResult.Present;
        }

        FileStream input;
        try
        {
            input = new FileStream(source.Blob(digest), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return BlobCopyResult.Missing;
        }

        var directory = target.BlobDirectory(digest);
        Directory.CreateDirectory(directory);
        var partial = destination + ".partial";
        await using (input)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var length = 0L;
            await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                var buffer = new byte[1024 * 1024];
                int read;
                while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    length += read;
                }

                output.Flush(flushToDisk: true);
            }

            if (length != size || Digest.FromHash(hash.GetHashAndReset()) != digest)
            {
                File.Delete(partial);
                return BlobCopyResult.Corrupt;
            }
        }

        File.Move(partial, destination, overwrite: true);
        DiskSync.SyncDirectory(directory);
        return BlobCopyResult.Copied;
    }
}
