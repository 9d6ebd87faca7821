using Berth.Contracts.Dtos;
using Berth.Core.Events;
using Berth.Core.Audit;
using Berth.Core.Blobs;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Diagnostics;
using Berth.Core.Gc;
using Berth.Core.Registry;
using Berth.Core.Uploads;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Maintenance;

/// <summary>
/// Periodic housekeeping: expires abandoned upload sessions (and removes their data and any upload
/// data without a session), fails pending versions that were never committed (releasing their
/// semantic version), drops expired idempotency records and sign-in throttle counts with nothing left to remember, refreshes the store gauges and, when
/// <c>Registry:GcInterval</c> is set, runs garbage collection once per interval. Every step is
/// idempotent, so replicas running it at the same time do no harm.
/// </summary>
public sealed partial class MaintenanceService(
    IServiceScopeFactory scopes,
    IBlobStore store,
    UploadExpiry expiry,
    BerthMeter meter,
    IOptions<RegistryOptions> options,
    TimeProvider clock,
    ILogger<MaintenanceService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>When the next scheduled garbage collection is due (ticks; 0: none scheduled).</summary>
    private long _nextGc = options.Value.GcInterval is { } every ? (clock.GetUtcNow().UtcDateTime + every).Ticks : 0;

    /// <summary>Raised after every run, with what it did (tests wait on it instead of polling).</summary>
    public event Action<MaintenanceReport>? Completed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // One-shot delays, each started before the pass it times, rather than a PeriodicTimer: the same fixed rate,
        // but a clock that jumps (a test's fake clock advanced by days) wakes it once, where a periodic timer ticks,
        // and runs a pass, once per interval skipped.
        while (true)
        {
            var next = Task.Delay(Interval, clock, stoppingToken);
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e);
            }

            await next;
        }
    }

    public async Task<MaintenanceReport> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;

        var expired = await expiry.ExpireAsync(db, now, dryRun: false, cancellationToken);

        var orphans = 0;
        var cutoff = now - options.Value.UploadSessionTtl;
        await foreach (var upload in store.EnumerateUploadsAsync(cancellationToken))
        {
            if (upload.LastModified.UtcDateTime < cutoff && !await db.UploadSessions.AnyAsync(s => s.Id == upload.Id.Value, cancellationToken))
            {
                await store.DeleteUploadAsync(upload.Id, cancellationToken);
                orphans++;
            }
        }

        var pendingCutoff = now - options.Value.PendingVersionTtl;
        var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
        var events = scope.ServiceProvider.GetRequiredService<EventLog>();
        var usage = scope.ServiceProvider.GetRequiredService<NamespaceUsage>();
        var spaces = await db.Versions.Where(v => v.State == VersionState.Pending && v.CreatedAt <= pendingCutoff)
            .Select(v => v.Model.NamespaceId).Distinct().OrderBy(id => id).ToListAsync(cancellationToken);
        var failed = spaces.Count == 0 ? 0 : await db.InTransactionWithRetryAsync(async ct =>
        {
            // The usage locks first (in one order, so two replicas never wait on each other), then the versions they release.
            foreach (var space in spaces)
            {
                await usage.LockAsync(space, ct);
            }

            var abandoned = await db.Versions.Include(v => v.Model).ThenInclude(m => m.Namespace)
                .Where(v => v.State == VersionState.Pending && v.CreatedAt <= pendingCutoff && spaces.Contains(v.Model.NamespaceId)).ToListAsync(ct);
            foreach (var version in abandoned)
            {
                audit.Record("version.fail", version.Model.Namespace.Name, $"{version.Model.Namespace.Name}/{version.Model.Name}:{version.Number}",
                    new Dictionary<string, object?> { ["reason"] = "not committed in time", ["semver"] = version.SemVer });
                events.Publish(EventTypes.VersionFailed, EventSubject.Of(version.Model), version.Number,
                    data: new Dictionary<string, object?> { ["reason"] = "not committed in time", ["semver"] = version.SemVer });
                version.State = VersionState.Failed;
                version.SemVer = null;
                version.Revision++;
            }

            await db.SaveChangesAsync(ct);
            foreach (var space in abandoned.Where(v => v.Model.DeletedAt is null).GroupBy(v => v.Model.NamespaceId))
            {
                await usage.AddAsync(space.Key, -space.Sum(v => v.TotalSize), -space.LongCount(), ct);
            }

            return abandoned.Count;
        }, cancellationToken);

        var idempotency = await db.IdempotencyRecords.Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        await Auth.SignInThrottler.PruneAsync(db, scope.ServiceProvider.GetRequiredService<IOptions<Auth.SignInOptions>>().Value, now, cancellationToken);

        var open = await db.UploadSessions.LongCountAsync(cancellationToken);
        var blobs = await db.Blobs.LongCountAsync(cancellationToken);
        var bytes = blobs == 0 ? 0 : await db.Blobs.SumAsync(b => b.Size, cancellationToken);
        meter.SetStoreStatistics(open, blobs, bytes);
        if (await db.ScrubRuns.AsNoTracking().OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken) is { } scrub)
        {
            meter.SetScrubResult(new DateTimeOffset(scrub.FinishedAt, TimeSpan.Zero), scrub.BlobsChecked, scrub.Problems);
        }

        var gc = await CollectIfDueAsync(scope.ServiceProvider, now, cancellationToken);
        var report = new MaintenanceReport(expired, orphans, failed, idempotency, gc);
        if (report.HasWork)
        {
            LogRan(logger, report.ExpiredUploads, report.OrphanUploads, report.FailedVersions, report.IdempotencyRecords);
        }

        Completed?.Invoke(report);
        return report;
    }

    /// <summary>Runs garbage collection when it is due; of runs at the same time, one claims it.</summary>
    private async Task<GcReport?> CollectIfDueAsync(IServiceProvider services, DateTime now, CancellationToken cancellationToken)
    {
        var due = Interlocked.Read(ref _nextGc);
        if (options.Value.GcInterval is not { } every || due == 0 || now.Ticks < due ||
            Interlocked.CompareExchange(ref _nextGc, (now + every).Ticks, due) != due)
        {
            return null;
        }

        return await services.GetRequiredService<GarbageCollector>().RunAsync(dryRun: false, cancellationToken);
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Maintenance: {ExpiredUploads} expired uploads, {OrphanUploads} orphan upload folders, {FailedVersions} abandoned pending versions, {IdempotencyRecords} idempotency records removed")]
    private static partial void LogRan(ILogger logger, int expiredUploads, int orphanUploads, int failedVersions, int idempotencyRecords);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Maintenance run failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
