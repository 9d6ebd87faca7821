using System.Buffers;
using System.Security.Cryptography;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Blobs;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Leases;
using Berth.Core.Diagnostics;
using Berth.Core.Errors;
using Berth.Core.Gc;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Uploads;

/// <summary>
/// Resumable uploads: create a session, append chunks at the current offset, ask for the offset after
/// a failure, finish with the expected digest. Bytes are hashed while they stream to the store; a blob
/// becomes visible (and gets its database row) only after its digest and size were verified and it was
/// moved into place. A mismatch removes the upload and keeps nothing. Every request that writes to an upload holds
/// its writer lease (<see cref="UploadLeases"/>) while it does, so one request at a time writes to an upload across
/// all replicas; another gets <c>upload_busy</c> with the current offset.
/// </summary>
public sealed class UploadService(
    RegistryDbContext db,
    IBlobStore store,
    UploadHashCache hashes,
    UploadLeases leases,
    BlobPresence presence,
    BerthMeter meter,
    IOptions<RegistryOptions> options,
    TimeProvider clock)
{
    public const string OffsetHeader = "Upload-Offset";

    /// <summary>The longest a presigned part URL of a direct upload stays valid.</summary>
    public static readonly TimeSpan DirectUrlLifetime = TimeSpan.FromHours(1);

    public async Task<UploadSession> CreateAsync(Actor actor, string ns, string model, CancellationToken cancellationToken)
    {
        ModelLookup.ValidateNames(ns, model);
        var now = clock.GetUtcNow().UtcDateTime;
        var session = new UploadSession
        {
            Id = UploadId.New().Value,
            Namespace = ns,
            Model = model,
            CreatedById = actor.UserId,
            CreatedAt = now,
            UpdatedAt = now,
            ExpiresAt = now + options.Value.UploadSessionTtl,
        };
        db.UploadSessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return session;
    }

    /// <summary>The session and how many bytes it holds durably.</summary>
    public async Task<(UploadSession Session, long Offset)> GetAsync(string ns, string model, string id, CancellationToken cancellationToken)
    {
        var (session, uploadId) = await FindAsync(ns, model, id, cancellationToken);
        return (session, await store.GetUploadLengthAsync(uploadId, cancellationToken));
    }

    /// <summary>
    /// Appends <paramref name="body"/> at <paramref name="offset"/> (null: at the end) and returns the new
    /// offset. What was received before a broken connection stays, so the client resumes from there.
    /// </summary>
    /// <remarks>
    /// An upload holds at most <see cref="RegistryOptions.MaxBlobSize"/> bytes: a body whose <paramref name="contentLength"/>
    /// would pass that is refused before it is read, and one of unknown length is cut off there (what came before stays).
    /// </remarks>
    public async Task<long> AppendAsync(string ns, string model, string id, long? offset, Stream body, long? contentLength, CancellationToken cancellationToken)
    {
        var (_, uploadId) = await FindAsync(ns, model, id, cancellationToken);
        await using var lease = await ClaimAsync(ns, model, id, uploadId, cancellationToken);
        using var writing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
        try
        {
            await using var writer = await OpenWriterAsync(uploadId, offset, appending: true, writing.Token);
            var max = options.Value.MaxBlobSize;
            if (contentLength is { } announced && announced > max - writer.Length)
            {
                throw TooLarge(writer.Length, announced);
            }

            var hash = await ResumeHashAsync(writer, writing.Token);
            var fits = await AppendCoreAsync(writer, hash, body, lease, max, writing.Token);
            hashes.Put(id, hash, writer.Length);
            await TouchAsync(id, cancellationToken);
            if (!fits)
            {
                throw TooLarge(writer.Length, null);
            }

            return writer.Length;
        }
        catch (OperationCanceledException) when (lease.IsLost && !cancellationToken.IsCancellationRequested)
        {
            throw LeaseLost(uploadId);
        }
    }

    /// <summary>
    /// Presigned URLs for writing the upload's parts straight into the blob store (then finished as usual, with the
    /// digest: the server reads the parts back to verify them). 409 <c>direct_upload_unavailable</c> when the store
    /// takes bytes only through Berth.
    /// </summary>
    public async Task<DirectUploadTarget> PlanDirectAsync(string ns, string model, string id, long size, CancellationToken cancellationToken)
    {
        var (session, uploadId) = await FindAsync(ns, model, id, cancellationToken);
        if (size <= 0 || size > options.Value.MaxBlobSize)
        {
            throw Fail.Error(size <= 0 ? ErrorCodes.InvalidRequest : ErrorCodes.BodyTooLarge,
                $"A direct upload needs a size from 1 to {options.Value.MaxBlobSize} bytes; got {size}.");
        }

        // Held while planning, so that no PATCH on another replica starts writing through Berth meanwhile.
        await using var lease = await ClaimAsync(ns, model, id, uploadId, cancellationToken);

        // The URLs stop working when the session expires, and after an hour at most: a client asks again for fresh ones.
        var lifetime = TimeSpan.FromTicks(Math.Min(DirectUrlLifetime.Ticks, (session.ExpiresAt - clock.GetUtcNow().UtcDateTime).Ticks));
        var target = await store.PlanDirectUploadAsync(uploadId, size, lifetime, cancellationToken)
            ?? throw Fail.Error(ErrorCodes.DirectUploadUnavailable, "This server's blob store takes upload bytes only through Berth: send them with PATCH.");
        await TouchAsync(id, cancellationToken);
        return target;
    }

    /// <summary>
    /// Appends an optional last chunk, verifies size and digest, and moves the bytes into the blob
    /// store. On a mismatch the upload is deleted and nothing becomes visible.
    /// </summary>
    public Task<BlobInfo> FinishAsync(string ns, string model, string id, string? digestText, long? size, long? offset, Stream? body, long? contentLength, CancellationToken cancellationToken) =>
        FinishAsync(ns, model, id, digestText, size, offset, body, contentLength, claim: true, cancellationToken);

    private async Task<BlobInfo> FinishAsync(string ns, string model, string id, string? digestText, long? size, long? offset, Stream? body, long? contentLength, bool claim, CancellationToken cancellationToken)
    {
        if (!Digest.TryParse(digestText, out var expected))
        {
            throw Fail.Error(ErrorCodes.InvalidDigest, $"Finishing an upload needs ?digest=sha256:<64 hex>; got '{Names.Show(digestText)}'.");
        }

        var (_, uploadId) = await FindAsync(ns, model, id, cancellationToken);
        await using var lease = claim ? await ClaimAsync(ns, model, id, uploadId, cancellationToken) : null;
        using var writing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease?.Lost ?? CancellationToken.None);
        try
        {
            return await FinishCoreAsync(ns, model, id, uploadId, expected, size, offset, body, contentLength, lease, writing.Token);
        }
        catch (OperationCanceledException) when (lease is { IsLost: true } && !cancellationToken.IsCancellationRequested)
        {
            throw LeaseLost(uploadId);
        }
    }

    private async Task<BlobInfo> FinishCoreAsync(string ns, string model, string id, UploadId uploadId, Digest expected, long? size, long? offset, Stream? body, long? contentLength, HeldLease? lease, CancellationToken cancellationToken)
    {
        long length;
        BlobPutResult result;
        var max = options.Value.MaxBlobSize;
        await using (var writer = await OpenWriterAsync(uploadId, offset, appending: body is not null, cancellationToken))
        {
            // Known before anything is read: a wrong size needs no hashing, and a body that cannot fit is not received.
            if (size is { } early && (body is null ? early != writer.Length : contentLength is { } announced && announced != early - writer.Length))
            {
                await RejectAsync(writer, size, null, expected, cancellationToken, announced: body is null ? null : writer.Length + contentLength);
            }

            if (body is not null && size is null && contentLength is { } announcedLength && announcedLength > max - writer.Length)
            {
                throw TooLarge(writer.Length, announcedLength);
            }

            Digest actual;
            var hash = await ResumeHashAsync(writer, cancellationToken);
            using (hash)
            {
                // Reading stops one byte past the declared size (or the largest blob): the rest of a body that is too long is never received.
                if (body is not null && !await AppendCoreAsync(writer, hash, body, lease, Math.Min(size ?? max, max), cancellationToken))
                {
                    if (size is { } declared && declared <= max)
                    {
                        await RejectAsync(writer, size, null, expected, cancellationToken, announced: declared + 1);
                    }

                    throw TooLarge(writer.Length, null);
                }

                actual = Digest.FromHash(hash.GetHashAndReset());
            }

            length = writer.Length;
            if ((size is { } declaredSize && declaredSize != length) || actual != expected)
            {
                await RejectAsync(writer, size, actual, expected, cancellationToken);
            }

            result = await StoreBlobAsync(writer, ns, model, expected, length, cancellationToken);
        }

        await db.UploadSessions.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
        hashes.Remove(id);
        meter.BlobStored(created: result == BlobPutResult.Created);
        return new BlobInfo(expected.ToString(), length);
    }

    /// <summary>
    /// Discards an upload whose size or digest is not the declared one and throws the error that says which.
    /// <paramref name="announced"/>: the length the upload would have had, when it was refused before (all of) the body was read.
    /// </summary>
    private async Task RejectAsync(IBlobUploadWriter writer, long? size, Digest? actual, Digest expected, CancellationToken cancellationToken, long? announced = null)
    {
        var length = announced ?? writer.Length;
        await writer.DisposeAsync();
        await DiscardAsync(writer.Id, cancellationToken);
        meter.UploadRejected();
        if (size is { } s && s != length)
        {
            var holds = announced is null ? $"The upload holds {length} bytes" : length > s ? $"The upload would hold more than {s} bytes ({length} or more)" : $"The upload would hold {length} bytes";
            throw Fail.Error(ErrorCodes.SizeMismatch, $"{holds}, not the declared {s}; it was discarded{(announced is null ? "" : " without reading the rest of the body")}.",
                new Dictionary<string, object?> { ["expected"] = s, ["actual"] = length });
        }

        throw Fail.Error(ErrorCodes.DigestMismatch, $"The uploaded bytes hash to {actual}, not the declared {expected}; the upload was discarded.",
            new Dictionary<string, object?> { ["expected"] = expected.ToString(), ["actual"] = actual.ToString() });
    }

    private RegistryException TooLarge(long held, long? announced) =>
        Fail.Error(ErrorCodes.BodyTooLarge, announced is { } more
            ? $"A blob may be at most {options.Value.MaxBlobSize} bytes; this upload holds {held} and the request brings {more} more. Nothing of it was read."
            : $"A blob may be at most {options.Value.MaxBlobSize} bytes; the upload stopped there ({held} bytes are kept).",
            new Dictionary<string, object?> { ["limit"] = options.Value.MaxBlobSize, ["offset"] = held });

    public async Task CancelAsync(string ns, string model, string id, CancellationToken cancellationToken)
    {
        var (_, uploadId) = await FindAsync(ns, model, id, cancellationToken);
        await using var lease = await ClaimAsync(ns, model, id, uploadId, cancellationToken);
        await DiscardAsync(uploadId, cancellationToken);
    }

    /// <summary>
    /// A whole blob in one request: create, append and finish. A body whose length is known and is not <paramref name="size"/>
    /// is refused before anything is read; reading stops one byte past the size. The session exists only while the request
    /// runs: whatever ends it early (a mismatch, a broken or aborted connection) deletes it and its bytes at once.
    /// </summary>
    public async Task<BlobInfo> PutAsync(Actor actor, string ns, string model, string? digest, long? size, Stream body, long? contentLength, CancellationToken cancellationToken)
    {
        if (!Digest.TryParse(digest, out _))
        {
            throw Fail.Error(ErrorCodes.InvalidDigest, $"A one-request upload needs ?digest=sha256:<64 hex>; got '{Names.Show(digest)}'.");
        }

        if (size is < 0)
        {
            throw Fail.Error(ErrorCodes.InvalidRequest, $"size cannot be negative; got {size}.");
        }

        var max = options.Value.MaxBlobSize;
        if ((size ?? contentLength) is { } known && known > max)
        {
            throw Fail.Error(ErrorCodes.BodyTooLarge, $"A blob may be at most {max} bytes; this one has {known}. Nothing of it was read.",
                new Dictionary<string, object?> { ["limit"] = max });
        }

        if (size is { } declared && contentLength is { } announced && announced != declared)
        {
            meter.UploadRejected();
            throw Fail.Error(ErrorCodes.SizeMismatch, $"The body has {announced} bytes (Content-Length), not the declared {declared}; nothing of it was read.",
                new Dictionary<string, object?> { ["expected"] = declared, ["actual"] = announced });
        }

        var session = await CreateAsync(actor, ns, model, cancellationToken);
        try
        {
            // Nobody else knows this session's id yet, so no other request can write to it: no lease needed.
            return await FinishAsync(ns, model, session.Id, digest, size, 0, body, contentLength, claim: false, cancellationToken);
        }
        catch (Exception)
        {
            // Also when the client went away: a one-request upload cannot be resumed, so its bytes are of no use.
            if (UploadId.TryParse(session.Id, out var id))
            {
                await DiscardAsync(id, CancellationToken.None);
            }

            throw;
        }
    }

    /// <summary>
    /// Moves the verified bytes into place and writes the blob's row (or marks an existing row used, reviving
    /// one that garbage collection had marked), all under the digest's lock: a collection deletes bytes only
    /// under the same lock, so it never deletes bytes this upload has just placed or re-used. Bytes placed
    /// without a row (a crash in between) are harmless garbage that the next collection removes.
    /// </summary>
    private async Task<BlobPutResult> StoreBlobAsync(IBlobUploadWriter writer, string ns, string model, Digest digest, long size, CancellationToken cancellationToken)
    {
        var key = digest.ToString();
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await BlobLocks.LockAsync(db, digest, cancellationToken);
        var result = await writer.CommitAsync(digest, cancellationToken);
        var revived = await db.Blobs.Where(b => b.Digest == key)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.LastUsedAt, now).SetProperty(b => b.DeletingAt, (DateTime?)null), cancellationToken);
        if (revived == 0)
        {
            db.Blobs.Add(new StoredBlob { Digest = key, Size = size, CreatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
        }

        // The bytes were uploaded into this model: its pending versions that list them need not wait for them any longer.
        await presence.MarkUploadedAsync(ns, model, key, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private async Task DiscardAsync(UploadId id, CancellationToken cancellationToken)
    {
        hashes.Remove(id.Value);
        await store.DeleteUploadAsync(id, cancellationToken);
        await db.UploadSessions.Where(s => s.Id == id.Value).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// Claims the upload's writer lease, or fails with <c>upload_busy</c>, the current offset and when to retry. Then
    /// checks that the session still exists: a cancel that held the lease a moment earlier may have removed it after
    /// this request found it, and writing now would recreate the bytes the cancel deleted.
    /// </summary>
    private async Task<HeldLease> ClaimAsync(string ns, string model, string id, UploadId uploadId, CancellationToken cancellationToken)
    {
        if (await leases.TryClaimAsync(db, uploadId, cancellationToken) is { } lease)
        {
            try
            {
                await FindAsync(ns, model, id, cancellationToken);
                return lease;
            }
            catch
            {
                await lease.DisposeAsync();
                throw;
            }
        }

        var until = await leases.HeldUntilAsync(db, uploadId, cancellationToken);
        var wait = until is { } u ? u - clock.GetUtcNow().UtcDateTime : TimeSpan.Zero;
        var retryAfter = Math.Clamp((int)Math.Ceiling(wait.TotalSeconds), 1, (int)Math.Ceiling(leases.Duration.TotalSeconds));
        throw Busy(await store.GetUploadLengthAsync(uploadId, cancellationToken), retryAfter);
    }

    private static RegistryException Busy(long length, int? retryAfter)
    {
        var headers = new Dictionary<string, string> { [OffsetHeader] = length.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var extensions = new Dictionary<string, object?> { ["offset"] = length };
        if (retryAfter is { } seconds)
        {
            headers["Retry-After"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            extensions["retryAfter"] = seconds;
        }

        return new RegistryException(ErrorCodes.UploadBusy, "Another request is writing to this upload; wait for it or query the offset and resume.", extensions)
        {
            Headers = headers,
        };
    }

    private static RegistryException LeaseLost(UploadId id) =>
        new(ErrorCodes.UploadBusy, $"This server could not renew its hold on upload {id.Value} in time, so it stopped writing; query the offset and resume.",
            new Dictionary<string, object?> { ["retryAfter"] = 1 })
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = "1" },
        };

    private async Task<(UploadSession Session, UploadId Id)> FindAsync(string ns, string model, string id, CancellationToken cancellationToken)
    {
        ModelLookup.ValidateNames(ns, model);
        var now = clock.GetUtcNow().UtcDateTime;
        if (UploadId.TryParse(id, out var uploadId))
        {
            var session = await db.UploadSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
            if (session is not null && session.Namespace == ns && session.Model == model && session.ExpiresAt > now)
            {
                return (session, uploadId);
            }
        }

        throw Fail.Error(ErrorCodes.UploadNotFound, $"Upload '{Names.Show(id)}' of {ns}/{model} does not exist or has expired; start a new one.");
    }

    /// <summary>
    /// Opens the upload's writer. <paramref name="appending"/>: bytes will be sent through Berth, which an upload the
    /// client writes straight into the store refuses before anything of it is read.
    /// </summary>
    private async Task<IBlobUploadWriter> OpenWriterAsync(UploadId id, long? offset, bool appending, CancellationToken cancellationToken)
    {
        if (offset is < 0)
        {
            throw Fail.Error(ErrorCodes.InvalidRange, "The upload offset cannot be negative.");
        }

        var writer = await OpenStoreWriterAsync(id, offset, cancellationToken);
        if (appending && writer.WrittenDirectly)
        {
            await writer.DisposeAsync();
            throw Fail.Error(ErrorCodes.UploadModeConflict, "This upload's parts go straight to the object store (POST .../parts gives their URLs); it takes no bytes through Berth.");
        }

        return writer;
    }

    private async Task<IBlobUploadWriter> OpenStoreWriterAsync(UploadId id, long? offset, CancellationToken cancellationToken)
    {
        try
        {
            return await store.OpenUploadWriterAsync(id, offset, cancellationToken);
        }
        catch (UploadConflictException e) when (e.Busy)
        {
            throw Busy(e.CurrentLength, retryAfter: null);
        }
        catch (UploadConflictException e)
        {
            throw new RegistryException(ErrorCodes.UploadOffsetMismatch, $"The upload holds {e.CurrentLength} bytes; send the chunk that starts at offset {e.CurrentLength}.",
                new Dictionary<string, object?> { ["offset"] = e.CurrentLength })
            {
                Headers = new Dictionary<string, string> { [OffsetHeader] = e.CurrentLength.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            };
        }
    }

    /// <summary>
    /// The hash of what the upload holds: from this process's cache, or recomputed from the store (always for bytes
    /// the client wrote straight into the store), reading the next buffer while the last one is hashed.
    /// </summary>
    private async Task<IncrementalHash> ResumeHashAsync(IBlobUploadWriter writer, CancellationToken cancellationToken)
    {
        var cached = hashes.Take(writer.Id.Value, writer.Length);
        if (cached is not null && !writer.WrittenDirectly)
        {
            return cached;
        }

        cached?.Dispose();
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (writer.Length == 0)
        {
            return hash;
        }

        var size = options.Value.UploadBufferSize;
        var current = ArrayPool<byte>.Shared.Rent(size);
        var next = ArrayPool<byte>.Shared.Rent(size);
        var reading = ValueTask.FromResult(0);
        try
        {
            await using var existing = await writer.OpenReadAsync(cancellationToken);
            reading = existing.ReadAtLeastAsync(current.AsMemory(0, size), size, throwOnEndOfStream: false, cancellationToken);
            while (true)
            {
                var read = await reading;
                reading = ValueTask.FromResult(0);
                if (read == 0)
                {
                    break;
                }

                if (read == size)
                {
                    reading = existing.ReadAtLeastAsync(next.AsMemory(0, size), size, throwOnEndOfStream: false, cancellationToken);
                }

                hash.AppendData(current, 0, read);
                (current, next) = (next, current);
            }

            return hash;
        }
        catch
        {
            try
            {
                await reading;
            }
            catch (Exception)
            {
                // The first failure is the one worth reporting.
            }

            hash.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
        }
    }

    /// <summary>
    /// Streams <paramref name="body"/> into the upload with two buffers: while one is hashed and written,
    /// the next is read from the network, so receive, hash and disk write overlap. Reads no further than one byte past
    /// <paramref name="limit"/> (the most the upload may hold) and answers false when the body went past it (the bytes
    /// before stay written, the rest is not read). On failure the bytes
    /// written so far are made durable (the client resumes after them) and the hash state is dropped, unless the
    /// request lost its writer lease: then another request may be writing already, and this one writes nothing more.
    /// </summary>
    private async Task<bool> AppendCoreAsync(IBlobUploadWriter writer, IncrementalHash hash, Stream body, HeldLease? lease, long limit, CancellationToken cancellationToken)
    {
        var size = options.Value.UploadBufferSize;
        var first = ArrayPool<byte>.Shared.Rent(size);
        var second = ArrayPool<byte>.Shared.Rent(size);
        var pending = Task.CompletedTask;
        var room = limit - writer.Length;
        var received = 0L;
        var fits = true;
        try
        {
            var current = first;
            while (true)
            {
                var want = (int)Math.Clamp(room - received + 1, 1, size);
                var read = await body.ReadAtLeastAsync(current.AsMemory(0, want), want, throwOnEndOfStream: false, cancellationToken);
                await pending;
                if (read == 0)
                {
                    break;
                }

                if (received + read > room)
                {
                    fits = false;
                    break;
                }

                received += read;
                pending = HashAndWriteAsync(writer, hash, current.AsMemory(0, read), cancellationToken);
                current = ReferenceEquals(current, first) ? second : first;
                if (read < want)
                {
                    break;
                }
            }

            await pending;
            await writer.FlushAsync(cancellationToken);
            return fits;
        }
        catch
        {
            try
            {
                await pending;
            }
            catch (Exception)
            {
                // The original failure is the one worth reporting.
            }

            hash.Dispose();
            hashes.Remove(writer.Id.Value);
            if (lease is not { IsLost: true })
            {
                await writer.FlushAsync(CancellationToken.None);
            }

            throw;
        }
        finally
        {
            meter.BytesReceived(received);
            ArrayPool<byte>.Shared.Return(first);
            ArrayPool<byte>.Shared.Return(second);
        }
    }

    private static async Task HashAndWriteAsync(IBlobUploadWriter writer, IncrementalHash hash, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var write = writer.WriteAsync(data, cancellationToken);
        hash.AppendData(data.Span);
        await write;
    }

    private async Task TouchAsync(string id, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var expires = now + options.Value.UploadSessionTtl;
        await db.UploadSessions.Where(s => s.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.UpdatedAt, now).SetProperty(u => u.ExpiresAt, expires), cancellationToken);
    }
}
