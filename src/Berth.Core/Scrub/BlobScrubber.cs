using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Blobs;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Diagnostics;
using Berth.Core.Errors;
using Berth.Core.Gc;
using Berth.Core.Leases;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Scrub;

/// <summary>
/// The scrub behind <c>berth fsck</c>, online and throttled (<see cref="RegistryOptions.FsckBytesPerSecond"/>):
/// <list type="number">
/// <item>every blob row (not being garbage-collected) is checked against the store: bytes present, of the recorded
/// size, hashing to the digest;</item>
/// <item>every object of the store older than the grace period is looked up: bytes without a row are strays.</item>
/// </list>
/// A problem is reported only after it is confirmed in a transaction holding the digest's lock (the one uploads and the
/// collector take), so a blob that a collection deleted or an upload placed meanwhile is not reported. With
/// quarantine, a missing or corrupt blob is marked in that transaction, and its versions fail with <c>blob_corrupt</c>;
/// a quarantined blob found healthy (restored) is released. One scrub runs at a time, under the <c>fsck</c> lease.
/// </summary>
public sealed partial class BlobScrubber(
    RegistryDbContext db,
    IBlobStore store,
    AuditTrail audit,
    BerthMeter meter,
    IServiceScopeFactory scopes,
    IOptions<RegistryOptions> options,
    TimeProvider clock,
    ILogger<BlobScrubber> logger)
{
    public const string LeaseName = "fsck";
    public static readonly TimeSpan LeaseTime = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);
    private const int BatchSize = 500;
    private const int MaxListedVersions = 100;
    private const int MaxListedDigests = 100;

    /// <summary>Claims the scrub for this process; 409 <c>fsck_running</c> when another scrub holds it.</summary>
    public async Task<HeldLease> ClaimAsync(CancellationToken cancellationToken)
    {
        var owner = Guid.NewGuid().ToString("N");
        var now = clock.GetUtcNow().UtcDateTime;
        if (!await LeaseClaim.TryClaimAsync(db, LeaseName, owner, now, now + LeaseTime, cancellationToken))
        {
            throw Fail.Error(ErrorCodes.FsckRunning, "A scrub is already running (on this or another server); wait for it to finish.");
        }

        return new HeldLease(LeaseName, owner, now + LeaseTime, LeaseTime, scopes, clock, logger);
    }

    /// <summary>Scrubs the store under <paramref name="lease"/>: problems as they are confirmed, progress now and then, the report last.</summary>
    public async IAsyncEnumerable<FsckLine> RunAsync(bool quarantine, HeldLease lease, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
        var ct = running.Token;
        var started = clock.GetUtcNow();
        var pacer = new ScrubPacer(options.Value.FsckBytesPerSecond, clock);
        var tally = new Tally();
        var lastProgress = clock.GetTimestamp();
        LogStarted(logger, quarantine);

        var after = "";
        while (true)
        {
            var rows = await db.Blobs.AsNoTracking().Where(b => b.DeletingAt == null && string.Compare(b.Digest, after) > 0)
                .OrderBy(b => b.Digest).Take(BatchSize)
                .Select(b => new BlobRow(b.Digest, b.Size, b.CreatedAt, b.QuarantinedAt != null)).ToListAsync(ct);
            if (rows.Count == 0)
            {
                break;
            }

            foreach (var row in rows)
            {
                var finding = await CheckAsync(row, pacer, tally, ct);
                if (finding is null)
                {
                    if (row.Quarantined && await ReleaseAsync(row, ct))
                    {
                        tally.Released.Add(row.Digest);
                    }
                }
                else if (await ConfirmAsync(row, finding, quarantine, tally, ct) is { } problem)
                {
                    yield return new FsckLine(FsckLine.ProblemType, Problem: problem);
                }

                if (clock.GetElapsedTime(lastProgress) >= ProgressEvery)
                {
                    lastProgress = clock.GetTimestamp();
                    yield return new FsckLine(FsckLine.ProgressType, Progress: new FsckProgress(tally.Blobs, tally.Bytes, tally.Problems));
                }
            }

            after = rows[^1].Digest;
        }

        await foreach (var problem in StraysAsync(tally, ct))
        {
            yield return new FsckLine(FsckLine.ProblemType, Problem: problem);
        }

        var report = new FsckReport(started, clock.GetUtcNow(), quarantine, tally.Blobs, tally.Bytes, tally.Stored, tally.Problems,
            tally.Missing, tally.SizeMismatches, tally.DigestMismatches, tally.Strays, tally.Quarantined.Count, tally.Released.Count,
            tally.Released.Take(MaxListedDigests).ToList());
        await RecordAsync(report, tally, ct);
        LogFinished(logger, report.BlobsChecked, report.BytesChecked, report.Problems, report.Quarantined, report.Released);
        yield return new FsckLine(FsckLine.ReportType, Report: report);
    }

    /// <summary>What is wrong with a row's bytes (read through the pacer), or null when they are whole.</summary>
    private async Task<Finding?> CheckAsync(BlobRow row, ScrubPacer pacer, Tally tally, CancellationToken cancellationToken)
    {
        var digest = Digest.Parse(row.Digest);
        tally.Blobs++;
        var stat = await store.StatAsync(digest, cancellationToken);
        if (stat is null)
        {
            return new Finding(FsckProblemKinds.Missing, null, null);
        }

        if (stat.Size != row.Size)
        {
            return new Finding(FsckProblemKinds.SizeMismatch, stat.Size, null);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1024 * 1024];
        var length = 0L;
        try
        {
            await using var stream = await store.OpenReadAsync(digest, 0, cancellationToken);
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                length += read;
                tally.Bytes += read;
                await pacer.ReadAsync(read, cancellationToken);
            }
        }
        catch (BlobNotFoundException)
        {
            return new Finding(FsckProblemKinds.Missing, null, null);
        }

        if (length != row.Size)
        {
            return new Finding(FsckProblemKinds.SizeMismatch, length, null);
        }

        var actual = Digest.FromHash(hash.GetHashAndReset());
        return actual == digest ? null : new Finding(FsckProblemKinds.DigestMismatch, length, actual.ToString());
    }

    /// <summary>
    /// Confirms a finding under the digest's lock: the row is still there, not being collected and not recreated, and
    /// (for missing or short bytes) the store still says so. Quarantines the blob when asked. Null when it went away.
    /// </summary>
    private async Task<FsckProblem?> ConfirmAsync(BlobRow row, Finding finding, bool quarantine, Tally tally, CancellationToken cancellationToken)
    {
        var digest = Digest.Parse(row.Digest);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await BlobLocks.LockAsync(db, digest, cancellationToken);
        var current = await db.Blobs.AsNoTracking().Where(b => b.Digest == row.Digest)
            .Select(b => new { b.CreatedAt, b.DeletingAt, b.QuarantinedAt }).FirstOrDefaultAsync(cancellationToken);
        if (current is null || current.DeletingAt is not null || current.CreatedAt != row.CreatedAt)
        {
            return null;
        }

        if (finding.Kind != FsckProblemKinds.DigestMismatch && await store.StatAsync(digest, cancellationToken) is { } stat && stat.Size == row.Size)
        {
            // Put back (restored) since it was read: the next scrub hashes it.
            return null;
        }

        var versions = await AffectedVersionsAsync(row.Digest, cancellationToken);
        var quarantined = current.QuarantinedAt is not null;
        if (quarantine && !quarantined)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            await db.Blobs.Where(b => b.Digest == row.Digest).ExecuteUpdateAsync(s => s
                .SetProperty(b => b.QuarantinedAt, now)
                .SetProperty(b => b.QuarantineReason, finding.Kind), cancellationToken);
            audit.Record("blob.quarantine", null, row.Digest, new Dictionary<string, object?> { ["problem"] = finding.Kind, ["versions"] = versions });
            await db.SaveChangesAsync(cancellationToken);
            quarantined = true;
            tally.Quarantined.Add(row.Digest);
            LogQuarantined(logger, row.Digest, finding.Kind);
        }

        await transaction.CommitAsync(cancellationToken);
        tally.Count(finding.Kind);
        return new FsckProblem(finding.Kind, row.Digest, row.Size, finding.ActualSize, finding.ActualDigest, versions, quarantined, Describe(finding, row.Size));
    }

    /// <summary>Lifts the quarantine of a blob found whole again; false when it was not quarantined any more.</summary>
    private async Task<bool> ReleaseAsync(BlobRow row, CancellationToken cancellationToken) =>
        await db.InTransactionWithRetryAsync(async ct =>
        {
            await BlobLocks.LockAsync(db, Digest.Parse(row.Digest), ct);
            var released = await db.Blobs.Where(b => b.Digest == row.Digest && b.QuarantinedAt != null)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.QuarantinedAt, (DateTime?)null).SetProperty(b => b.QuarantineReason, (string?)null), ct);
            if (released == 0)
            {
                return false;
            }

            audit.Record("blob.release", null, row.Digest, new Dictionary<string, object?> { ["versions"] = await AffectedVersionsAsync(row.Digest, ct) });
            await db.SaveChangesAsync(ct);
            LogReleased(logger, row.Digest);
            return true;
        }, cancellationToken);

    /// <summary>Objects of the store older than the grace period that no row records (rows being collected count as records).</summary>
    private async IAsyncEnumerable<FsckProblem> StraysAsync(Tally tally, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var grace = clock.GetUtcNow().UtcDateTime - options.Value.BlobGracePeriod;
        var batch = new List<BlobStat>(BatchSize);
        await foreach (var blob in store.EnumerateAsync(cancellationToken))
        {
            tally.Stored++;
            if (blob.LastModified.UtcDateTime <= grace)
            {
                batch.Add(blob);
            }

            if (batch.Count == BatchSize)
            {
                await foreach (var problem in UnrecordedAsync(batch, tally, cancellationToken))
                {
                    yield return problem;
                }

                batch.Clear();
            }
        }

        await foreach (var problem in UnrecordedAsync(batch, tally, cancellationToken))
        {
            yield return problem;
        }
    }

    private async IAsyncEnumerable<FsckProblem> UnrecordedAsync(List<BlobStat> batch, Tally tally, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            yield break;
        }

        var keys = batch.Select(b => b.Digest.ToString()).ToList();
        var recorded = (await db.Blobs.AsNoTracking().Where(b => keys.Contains(b.Digest)).Select(b => b.Digest).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        foreach (var blob in batch)
        {
            var key = blob.Digest.ToString();
            if (recorded.Contains(key))
            {
                continue;
            }

            // Confirm under the digest's lock: an upload that placed the bytes writes its row holding that lock.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await BlobLocks.LockAsync(db, blob.Digest, cancellationToken);
            var stray = !await db.Blobs.AnyAsync(b => b.Digest == key, cancellationToken) && await store.StatAsync(blob.Digest, cancellationToken) is not null;
            await transaction.CommitAsync(cancellationToken);
            if (!stray)
            {
                continue;
            }

            tally.Count(FsckProblemKinds.Stray);
            var versions = await AffectedVersionsAsync(key, cancellationToken);
            var detail = versions.Count == 0
                ? "Bytes in the store that the database does not record; garbage collection deletes them."
                : "Bytes in the store that the database does not record, although versions list them; garbage collection would delete them. Restore the database's blob row (from a backup) to keep them.";
            yield return new FsckProblem(FsckProblemKinds.Stray, key, null, blob.Size, null, versions, false, detail);
        }
    }

    /// <summary>The versions whose files use a blob: <c>ns/model:number</c>, with the state when not ready; purged versions no longer count.</summary>
    private async Task<List<string>> AffectedVersionsAsync(string digest, CancellationToken cancellationToken)
    {
        var rows = await (from f in db.VersionFiles.AsNoTracking()
                          join v in db.Versions.AsNoTracking() on f.VersionId equals v.Id
                          where f.Digest == digest
                          select new { Namespace = v.Model.Namespace.Name, Model = v.Model.Name, v.Number, v.State })
            .Distinct().OrderBy(r => r.Namespace).ThenBy(r => r.Model).ThenBy(r => r.Number)
            .Take(MaxListedVersions).ToListAsync(cancellationToken);
        return rows.Select(r => r.State == VersionState.Ready
            ? $"{r.Namespace}/{r.Model}:{r.Number}"
            : $"{r.Namespace}/{r.Model}:{r.Number} ({DtoMapper.StateName(r.State)})").ToList();
    }

    /// <summary>Writes the run's outcome (for /metrics on every replica) and its audit entry.</summary>
    private async Task RecordAsync(FsckReport report, Tally tally, CancellationToken cancellationToken)
    {
        await db.InTransactionWithRetryAsync(async ct =>
        {
            db.ScrubRuns.Add(new ScrubRun
            {
                StartedAt = report.StartedAt.UtcDateTime,
                FinishedAt = report.FinishedAt.UtcDateTime,
                BlobsChecked = report.BlobsChecked,
                BytesChecked = report.BytesChecked,
                Problems = report.Problems,
                Quarantined = report.Quarantined,
                Released = report.Released,
            });
            audit.Record("fsck.run", null, null, new Dictionary<string, object?>
            {
                ["quarantine"] = report.Quarantine,
                ["blobsChecked"] = report.BlobsChecked,
                ["bytesChecked"] = report.BytesChecked,
                ["storedChecked"] = report.StoredChecked,
                ["problems"] = report.Problems,
                ["missing"] = report.Missing,
                ["sizeMismatches"] = report.SizeMismatches,
                ["digestMismatches"] = report.DigestMismatches,
                ["strays"] = report.Strays,
                ["quarantined"] = tally.Quarantined.Take(MaxListedDigests).ToList(),
                ["released"] = report.ReleasedDigests,
            });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        meter.SetScrubResult(report.FinishedAt, report.BlobsChecked, report.Problems);
    }

    private static string Describe(Finding finding, long size) => finding.Kind switch
    {
        FsckProblemKinds.Missing => "The database records this blob, but the store has no bytes for it.",
        FsckProblemKinds.SizeMismatch => $"The store holds {finding.ActualSize} bytes; the database records {size}.",
        _ => $"The stored bytes hash to {finding.ActualDigest}: they are corrupt.",
    };

    private sealed record BlobRow(string Digest, long Size, DateTime CreatedAt, bool Quarantined);

    private sealed record Finding(string Kind, long? ActualSize, string? ActualDigest);

    private sealed class Tally
    {
        public int Blobs { get; set; }
        public long Bytes { get; set; }
        public int Stored { get; set; }
        public int Missing { get; private set; }
        public int SizeMismatches { get; private set; }
        public int DigestMismatches { get; private set; }
        public int Strays { get; private set; }
        public int Problems => Missing + SizeMismatches + DigestMismatches + Strays;
        public List<string> Quarantined { get; } = [];
        public List<string> Released { get; } = [];

        public void Count(string kind)
        {
            switch (kind)
            {
                case FsckProblemKinds.Missing: Missing++; break;
                case FsckProblemKinds.SizeMismatch: SizeMismatches++; break;
                case FsckProblemKinds.DigestMismatch: DigestMismatches++; break;
                default: Strays++; break;
            }
        }
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Information, Message = "Scrub started (quarantine: {Quarantine})")]
    private static partial void LogStarted(ILogger logger, bool quarantine);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "Scrub finished: {Blobs} blobs ({Bytes} bytes) checked, {Problems} problems, {Quarantined} quarantined, {Released} released")]
    private static partial void LogFinished(ILogger logger, int blobs, long bytes, int problems, int quarantined, int released);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "Scrub quarantined blob {Digest}: {Problem}")]
    private static partial void LogQuarantined(ILogger logger, string digest, string problem);

    [LoggerMessage(EventId = 3304, Level = LogLevel.Information, Message = "Scrub released blob {Digest}: its bytes are whole again")]
    private static partial void LogReleased(ILogger logger, string digest);
}
