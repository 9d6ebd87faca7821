using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Blobs;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Leases;
using Berth.Core.Errors;
using Berth.Core.Uploads;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Gc;

/// <summary>
/// Mark and sweep of the blob store, safe while pushes are in flight and with several replicas at once
/// (the order of steps and why it is safe: docs/retention.md).
/// <list type="number">
/// <item>Retention: the versions that retention policies select are deleted (softly, like <c>berth rm</c>).</item>
/// <item>Purge: deleted and failed versions, and every version of a deleted model or namespace, whose
/// purge delay has passed lose their file rows (and aliases); the version rows stay for history. Deleted runs (and
/// runs of deleted models and namespaces) past the delay lose their file rows and metric series likewise.</item>
/// <item>Mark: blobs referenced by no file row (of a version or a run), older than the grace period and not used by a push within
/// it, are marked deleting with one conditional update that re-checks all of that at the moment it writes;
/// from then on pushes treat them as absent.</item>
/// <item>Sweep: under the digest's lock, the bytes of each marked blob are deleted, then its row.</item>
/// <item>Orphans: bytes with no row (a crash between the two) older than the grace period are deleted.</item>
/// </list>
/// Only one replica sweeps at a time: it holds the <c>gc</c> lease, renewed while it runs, and stops if it cannot renew it
/// in time (another replica may then take over). A dry run takes no lease and changes nothing.
/// </summary>
public sealed partial class GarbageCollector(
    RegistryDbContext db,
    IBlobStore store,
    UploadExpiry uploads,
    RetentionService retention,
    AuditTrail audit,
    IServiceScopeFactory scopes,
    IOptions<RegistryOptions> options,
    TimeProvider clock,
    ILogger<GarbageCollector> logger)
{
    public const string LeaseName = "gc";
    public static readonly TimeSpan LeaseTime = TimeSpan.FromMinutes(2);
    private const int BatchSize = 500;
    private const int MaxListedDigests = 1000;

    public async Task<GcReport> RunAsync(bool dryRun, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var grace = now - options.Value.BlobGracePeriod;
        var purge = now - options.Value.PurgeDelay;
        if (dryRun)
        {
            return await CollectAsync(dryRun, now, grace, purge, cancellationToken);
        }

        var owner = Guid.NewGuid().ToString("N");
        if (!await LeaseClaim.TryClaimAsync(db, LeaseName, owner, now, now + LeaseTime, cancellationToken))
        {
            LogSkipped(logger);
            return new GcReport(dryRun, Swept: false, 0, [], 0, 0, 0, 0, 0, 0, 0, []);
        }

        await using var lease = new HeldLease(LeaseName, owner, now + LeaseTime, LeaseTime, scopes, clock, logger);
        using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
        try
        {
            return await CollectAsync(dryRun, now, grace, purge, running.Token);
        }
        catch (OperationCanceledException) when (lease.IsLost && !cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(ErrorCodes.Unavailable,
                "Garbage collection stopped: this server could not renew its hold on the collection in time. What it deleted stays deleted; run it again.");
        }
    }

    private async Task<GcReport> CollectAsync(bool dryRun, DateTime now, DateTime grace, DateTime purge, CancellationToken cancellationToken)
    {
        var retained = await retention.ApplyAsync(dryRun, cancellationToken);
        var purged = dryRun ? await Purgeable(purge).CountAsync(cancellationToken) : await PurgeAsync(purge, now, cancellationToken);
        if (!dryRun)
        {
            await PurgePushedManifestsAsync(purge, cancellationToken);
        }

        var purgedRuns = dryRun ? await PurgeableRuns(purge).CountAsync(cancellationToken) : await PurgeRunsAsync(purge, now, cancellationToken);
        var digests = new List<string>();
        var (blobs, bytes) = dryRun ? await ListCollectableAsync(purge, grace, digests, cancellationToken) : await SweepAsync(grace, now, digests, cancellationToken);
        var (orphans, orphanBytes) = await SweepOrphansAsync(grace, dryRun, cancellationToken);
        var expired = await uploads.ExpireAsync(db, now, dryRun, cancellationToken);
        var listed = retained.Versions.Take(MaxListedDigests).ToList();
        var report = new GcReport(dryRun, Swept: !dryRun, retained.Versions.Count, listed, retained.FreedBytes, purged, blobs, bytes, orphans, orphanBytes, expired, digests, purgedRuns,
            retained.Runs.Count, retained.Runs.Take(MaxListedDigests).ToList());
        if (!dryRun)
        {
            await db.InTransactionWithRetryAsync(async ct =>
            {
                audit.Record("gc.run", null, null, new Dictionary<string, object?>
                {
                    ["retentionDeleted"] = retained.Versions.Count,
                    ["retentionVersions"] = listed.Take(100).ToList(),
                    ["retentionFreedBytes"] = retained.FreedBytes,
                    ["retentionRunsDeleted"] = retained.Runs.Count,
                    ["retentionRuns"] = retained.Runs.Take(100).ToList(),
                    ["purgedVersions"] = purged,
                    ["purgedRuns"] = purgedRuns,
                    ["blobs"] = blobs,
                    ["bytes"] = bytes,
                    ["orphanFiles"] = orphans,
                    ["expiredUploads"] = expired,
                });
                await db.SaveChangesAsync(ct);
                return true;
            }, cancellationToken);
            LogSwept(logger, retained.Versions.Count, purged, purgedRuns, blobs, bytes, orphans, expired);
        }

        return report;
    }

    /// <summary>Versions whose files stop referencing blobs at this collection.</summary>
    private IQueryable<ModelVersion> Purgeable(DateTime cutoff) =>
        db.Versions.Where(v => v.PurgedAt == null && (
            (v.State == VersionState.Deleted && v.DeletedAt <= cutoff) ||
            (v.State == VersionState.Failed && v.CreatedAt <= cutoff) ||
            v.Model.DeletedAt <= cutoff ||
            v.Model.Namespace.DeletedAt <= cutoff));

    private async Task<int> PurgeAsync(DateTime cutoff, DateTime now, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var ids = await Purgeable(cutoff).OrderBy(v => v.Id).Select(v => v.Id).Take(BatchSize).ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                return total;
            }

            // Conditional on not being purged yet, so a replica that purges the same versions at once counts none twice.
            total += await db.InTransactionWithRetryAsync(async ct =>
            {
                await db.VersionFiles.Where(f => ids.Contains(f.VersionId)).ExecuteDeleteAsync(ct);
                await db.Aliases.Where(a => ids.Contains(a.VersionId)).ExecuteDeleteAsync(ct);
                // Their OCI forms (the ModelPack manifest, the model car image) go too, and with them the references that keep their blobs.
                var manifests = db.OciManifests.Where(m => m.VersionId != null && ids.Contains(m.VersionId.Value)).Select(m => m.Id);
                await db.OciTags.Where(t => manifests.Contains(t.ManifestId)).ExecuteDeleteAsync(ct);
                await db.OciBlobRefs.Where(r => manifests.Contains(r.ManifestId)).ExecuteDeleteAsync(ct);
                await db.OciManifests.Where(m => m.VersionId != null && ids.Contains(m.VersionId.Value)).ExecuteDeleteAsync(ct);
                return await db.Versions.Where(v => ids.Contains(v.Id) && v.PurgedAt == null).ExecuteUpdateAsync(s => s
                    .SetProperty(v => v.PurgedAt, now)
                    .SetProperty(v => v.State, VersionState.Deleted)
                    .SetProperty(v => v.SemVer, v => v.State == VersionState.Failed ? null : v.SemVer)
                    .SetProperty(v => v.DeletedAt, v => v.DeletedAt ?? now)
                    .SetProperty(v => v.Revision, v => v.Revision + 1), ct);
            }, cancellationToken);
        }
    }

    /// <summary>
    /// Pushed OCI manifests that belong to no version (images, signatures, SBOMs) of models or namespaces deleted before
    /// <paramref name="cutoff"/> go, with their tags and the references that keep their blobs.
    /// </summary>
    private async Task PurgePushedManifestsAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        var manifests = db.OciManifests.Where(m => m.VersionId == null && db.Models.Any(x => x.Id == m.ModelId && (x.DeletedAt <= cutoff || x.Namespace.DeletedAt <= cutoff)))
            .Select(m => m.Id);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            await db.OciTags.Where(t => manifests.Contains(t.ManifestId)).ExecuteDeleteAsync(ct);
            await db.OciBlobRefs.Where(r => manifests.Contains(r.ManifestId)).ExecuteDeleteAsync(ct);
            return await db.OciManifests.Where(m => m.VersionId == null && db.Models.Any(x => x.Id == m.ModelId && (x.DeletedAt <= cutoff || x.Namespace.DeletedAt <= cutoff)))
                .ExecuteDeleteAsync(ct);
        }, cancellationToken);
    }

    /// <summary>Deleted runs (and runs of deleted models and namespaces) whose files and series go at this collection.</summary>
    private IQueryable<Run> PurgeableRuns(DateTime cutoff) =>
        db.Runs.Where(r => r.PurgedAt == null && (
            r.DeletedAt <= cutoff ||
            r.Model.DeletedAt <= cutoff ||
            r.Model.Namespace.DeletedAt <= cutoff));

    /// <summary>
    /// Purges runs past the purge delay: their file rows (so their blobs are collectable unless a version or another run
    /// uses them), metric chunks, summaries and batch ids go; the run row stays, deleted, for history and lineage.
    /// </summary>
    private async Task<int> PurgeRunsAsync(DateTime cutoff, DateTime now, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var ids = await PurgeableRuns(cutoff).OrderBy(r => r.Id).Select(r => r.Id).Take(BatchSize).ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                return total;
            }

            total += await db.InTransactionWithRetryAsync(async ct =>
            {
                await db.RunFiles.Where(f => ids.Contains(f.RunId)).ExecuteDeleteAsync(ct);
                await db.RunMetricChunks.Where(c => ids.Contains(c.RunId)).ExecuteDeleteAsync(ct);
                await db.RunMetrics.Where(m => ids.Contains(m.RunId)).ExecuteDeleteAsync(ct);
                await db.RunBatches.Where(b => ids.Contains(b.RunId)).ExecuteDeleteAsync(ct);
                return await db.Runs.Where(r => ids.Contains(r.Id) && r.PurgedAt == null).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.PurgedAt, now)
                    .SetProperty(r => r.DeletedAt, r => r.DeletedAt ?? now)
                    .SetProperty(r => r.Revision, r => r.Revision + 1), ct);
            }, cancellationToken);
        }
    }

    /// <summary>Blobs that are not marked yet and that nothing keeps (see <see cref="Collectable(DateTime)"/>).</summary>
    private IQueryable<StoredBlob> Unmarked(DateTime grace) =>
        db.Blobs.Where(b => b.DeletingAt == null && b.CreatedAt <= grace && (b.LastUsedAt == null || b.LastUsedAt <= grace));

    /// <summary>Unreferenced blobs past their grace period: what the mark step marks.</summary>
    private IQueryable<StoredBlob> Collectable(DateTime grace) =>
        Unmarked(grace).Where(b => !db.VersionFiles.Any(f => f.Digest == b.Digest) && !db.RunFiles.Any(f => f.Digest == b.Digest) &&
                                   !db.OciBlobRefs.Any(r => r.Digest == b.Digest));

    /// <summary>The dry run's answer: what a collection now would delete, counting the purge it would do first.</summary>
    private async Task<(int Count, long Bytes)> ListCollectableAsync(DateTime purge, DateTime grace, List<string> digests, CancellationToken cancellationToken)
    {
        var purgeable = Purgeable(purge);
        var purgeableRuns = PurgeableRuns(purge);
        var query = Unmarked(grace).Where(b => !db.VersionFiles.Any(f => f.Digest == b.Digest && !purgeable.Any(v => v.Id == f.VersionId)) &&
                                               !db.RunFiles.Any(f => f.Digest == b.Digest && !purgeableRuns.Any(r => r.Id == f.RunId)) &&
                                               !db.OciBlobRefs.Any(r => r.Digest == b.Digest && !db.OciManifests.Any(m => m.Id == r.ManifestId &&
                                                   m.VersionId != null && purgeable.Any(v => v.Id == m.VersionId))));
        var marked = db.Blobs.Where(b => b.DeletingAt != null);
        var count = 0;
        var bytes = 0L;
        foreach (var source in new[] { query, marked })
        {
            var after = "";
            while (true)
            {
                var page = await source.Where(b => string.Compare(b.Digest, after) > 0).OrderBy(b => b.Digest)
                    .Select(b => new { b.Digest, b.Size }).Take(BatchSize).ToListAsync(cancellationToken);
                if (page.Count == 0)
                {
                    break;
                }

                foreach (var blob in page)
                {
                    count++;
                    bytes += blob.Size;
                    AddListed(digests, blob.Digest);
                }

                after = page[^1].Digest;
            }
        }

        return (count, bytes);
    }

    private async Task<(int Count, long Bytes)> SweepAsync(DateTime grace, DateTime now, List<string> digests, CancellationToken cancellationToken)
    {
        // Mark, a batch at a time. The update re-checks every condition as it writes, so a push that
        // declared or uploaded one of these blobs after the query above keeps it (docs/retention.md).
        var after = "";
        while (true)
        {
            var batch = await Collectable(grace).Where(b => string.Compare(b.Digest, after) > 0).OrderBy(b => b.Digest)
                .Select(b => b.Digest).Take(BatchSize).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            await Collectable(grace).Where(b => batch.Contains(b.Digest)).ExecuteUpdateAsync(s => s.SetProperty(b => b.DeletingAt, now), cancellationToken);
            after = batch[^1];
        }

        // Sweep everything marked, including marks left by an earlier collection that stopped half-way.
        var count = 0;
        var bytes = 0L;
        after = "";
        while (true)
        {
            var marked = await db.Blobs.AsNoTracking().Where(b => b.DeletingAt != null && string.Compare(b.Digest, after) > 0)
                .OrderBy(b => b.Digest).Select(b => b.Digest).Take(BatchSize).ToListAsync(cancellationToken);
            if (marked.Count == 0)
            {
                return (count, bytes);
            }

            foreach (var text in marked)
            {
                var size = await DeleteMarkedAsync(Digest.Parse(text), cancellationToken);
                if (size is { } s)
                {
                    count++;
                    bytes += s;
                    AddListed(digests, text);
                }
            }

            after = marked[^1];
        }
    }

    /// <summary>
    /// Deletes a marked blob's bytes, then its row, under the digest's lock. Null when an upload revived it
    /// meanwhile. A crash after the bytes went leaves a marked row, which counts as absent and is swept next time.
    /// </summary>
    private async Task<long?> DeleteMarkedAsync(Digest digest, CancellationToken cancellationToken)
    {
        var key = digest.ToString();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await BlobLocks.LockAsync(db, digest, cancellationToken);
        var row = await db.Blobs.AsNoTracking().Where(b => b.Digest == key).Select(b => new { b.Size, b.DeletingAt }).FirstOrDefaultAsync(cancellationToken);
        if (row?.DeletingAt is null)
        {
            return null;
        }

        await store.DeleteAsync(digest, cancellationToken);
        await db.Blobs.Where(b => b.Digest == key && b.DeletingAt != null).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return row.Size;
    }

    /// <summary>Bytes in the store with no row at all, past the grace period: garbage left by a crash.</summary>
    private async Task<(int Count, long Bytes)> SweepOrphansAsync(DateTime grace, bool dryRun, CancellationToken cancellationToken)
    {
        var count = 0;
        var bytes = 0L;
        await foreach (var blob in store.EnumerateAsync(cancellationToken))
        {
            if (blob.LastModified.UtcDateTime > grace)
            {
                continue;
            }

            var key = blob.Digest.ToString();
            if (dryRun)
            {
                if (!await db.Blobs.AnyAsync(b => b.Digest == key, cancellationToken))
                {
                    count++;
                    bytes += blob.Size;
                }

                continue;
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await BlobLocks.LockAsync(db, blob.Digest, cancellationToken);
            if (!await db.Blobs.AnyAsync(b => b.Digest == key, cancellationToken) && await store.DeleteAsync(blob.Digest, cancellationToken))
            {
                count++;
                bytes += blob.Size;
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return (count, bytes);
    }

    private static void AddListed(List<string> digests, string digest)
    {
        if (digests.Count < MaxListedDigests)
        {
            digests.Add(digest);
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Garbage collection: {RetentionDeleted} versions deleted by retention, {PurgedVersions} versions and {PurgedRuns} runs purged, {Blobs} blobs ({Bytes} bytes) and {OrphanFiles} orphan files deleted, {ExpiredUploads} upload sessions expired")]
    private static partial void LogSwept(ILogger logger, int retentionDeleted, int purgedVersions, int purgedRuns, int blobs, long bytes, int orphanFiles, int expiredUploads);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Garbage collection skipped: another replica holds the sweep")]
    private static partial void LogSkipped(ILogger logger);
}
