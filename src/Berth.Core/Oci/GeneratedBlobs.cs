using System.Security.Cryptography;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Gc;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Oci;

/// <summary>
/// Stores bytes that Berth writes itself (OCI configs, model car layers) in the content-addressed store, the way an
/// upload does: streamed into an upload area while hashed, then moved into place and given their row under the
/// digest's lock, so garbage collection never deletes them half-way. Bytes already stored are kept, not written twice.
/// </summary>
public sealed class GeneratedBlobs(RegistryDbContext db, IBlobStore store, TimeProvider clock)
{
    /// <summary>Stores <paramref name="content"/> (small) unless the store already holds it.</summary>
    public async Task<Digest> PutAsync(byte[] content, CancellationToken cancellationToken)
    {
        var digest = Digest.Compute(content);
        if (await IsStoredAsync(digest, cancellationToken))
        {
            return digest;
        }

        return await WriteAsync((stream, ct) => stream.WriteAsync(content, ct).AsTask(), cancellationToken);
    }

    /// <summary>Stores what <paramref name="write"/> writes to the stream it is given; the digest is computed while it writes.</summary>
    public async Task<Digest> WriteAsync(Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var writer = await store.OpenUploadWriterAsync(UploadId.New(), 0, cancellationToken);
        try
        {
            Digest digest;
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                await using (var stream = new HashingUploadStream(writer, hash))
                {
                    await write(stream, cancellationToken);
                }

                await writer.FlushAsync(cancellationToken);
                digest = Digest.FromHash(hash.GetHashAndReset());
            }

            var size = writer.Length;
            var key = digest.ToString();
            var now = clock.GetUtcNow().UtcDateTime;
            await db.InTransactionWithRetryAsync(async ct =>
            {
                await BlobLocks.LockAsync(db, digest, ct);
                await writer.CommitAsync(digest, ct);
                var revived = await db.Blobs.Where(b => b.Digest == key)
                    .ExecuteUpdateAsync(s => s.SetProperty(b => b.LastUsedAt, now).SetProperty(b => b.DeletingAt, (DateTime?)null), ct);
                if (revived == 0)
                {
                    db.Blobs.Add(new StoredBlob { Digest = key, Size = size, CreatedAt = now, LastUsedAt = now });
                    await db.SaveChangesAsync(ct);
                }

                return true;
            }, cancellationToken);
            db.ChangeTracker.Clear();
            await writer.DisposeAsync();
            return digest;
        }
        catch
        {
            await writer.DisposeAsync();
            await store.DeleteUploadAsync(writer.Id, CancellationToken.None);
            throw;
        }
    }

    private async Task<bool> IsStoredAsync(Digest digest, CancellationToken cancellationToken)
    {
        var key = digest.ToString();
        var now = clock.GetUtcNow().UtcDateTime;
        // Marking it used keeps it from a collection that runs before the manifest that references it is written.
        return await db.Blobs.Where(b => b.Digest == key && b.DeletingAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.LastUsedAt, now), cancellationToken) > 0;
    }

    /// <summary>A write-only stream into an upload that hashes what passes through.</summary>
    private sealed class HashingUploadStream(IBlobUploadWriter writer, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => writer.Length;

        public override long Position
        {
            get => writer.Length;
            set => throw new NotSupportedException();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            hash.AppendData(buffer.Span);
            await writer.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // TarWriter's asynchronous path writes asynchronously; a synchronous write would block a thread on the store.
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write asynchronously.");

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
