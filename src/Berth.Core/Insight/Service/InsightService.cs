using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Json;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Events;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Insight.Service;

/// <summary>
/// Model insight on the server: the worker's steps (find due versions, claim one under a lease, read it, store its
/// summary and per-file readings, flag a dangerous version with <c>version.flagged</c>), and what the API offers (a
/// version's insight, a namespace's scan policy, recomputing).
/// </summary>
public sealed class InsightService(
    RegistryDbContext db,
    InsightFiles files,
    InsightQueue queue,
    ModelLookup lookup,
    EventLog events,
    AuditTrail audit,
    IOptions<InsightOptions> options,
    TimeProvider clock)
{
    /// <summary>Pending versions no worker holds, oldest first.</summary>
    public async Task<List<long>> DueAsync(int max, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return await db.VersionInsights.AsNoTracking()
            .Where(i => i.State == InsightStates.Pending && (i.LeaseUntil == null || i.LeaseUntil < now))
            .OrderBy(i => i.QueuedAt).ThenBy(i => i.VersionId).Select(i => i.VersionId).Take(max).ToListAsync(cancellationToken);
    }

    /// <summary>Takes a pending version for <paramref name="owner"/> (a conditional update: of several servers, one wins).</summary>
    public async Task<bool> ClaimAsync(long versionId, string owner, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var until = now + options.Value.Lease;
        return await db.VersionInsights
            .Where(i => i.VersionId == versionId && i.State == InsightStates.Pending && (i.LeaseUntil == null || i.LeaseUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.LeaseOwner, owner).SetProperty(i => i.LeaseUntil, until).SetProperty(i => i.Attempts, i => i.Attempts + 1), cancellationToken) == 1;
    }

    /// <summary>Reads a claimed version and stores what was read; answers the state it ended in (null: another server took it over).</summary>
    public async Task<string?> ProcessAsync(long versionId, string owner, CancellationToken cancellationToken)
    {
        var version = await db.Versions.AsNoTracking().Where(v => v.Id == versionId)
            .Select(v => new { v.State, v.Number, v.ModelId, v.Model.NamespaceId, Policy = v.Model.Namespace.ScanPolicy })
            .SingleOrDefaultAsync(cancellationToken);
        if (version is null || version.State != VersionState.Ready)
        {
            return await FinishAsync(versionId, owner, [], scan: false, $"the version is {(version is null ? "gone" : DtoMapper.StateName(version.State))}", cancellationToken);
        }

        var scan = version.Policy != ScanPolicies.Off;
        List<FileInsight> read;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(options.Value.Timeout);
            try
            {
                read = await files.ReadAsync(versionId, scan, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return await FinishAsync(versionId, owner, [], scan, $"reading the files took longer than {options.Value.Timeout} (Insight:Timeout)", cancellationToken);
            }
        }

        return await FinishAsync(versionId, owner, read, scan, reason: null, cancellationToken);
    }

    /// <summary>
    /// A reading that broke off (the blob store unreachable …): tried again later, up to <see cref="InsightOptions.MaxAttempts"/>
    /// times in all, then failed with the error as its reason.
    /// </summary>
    public async Task ReleaseAsync(long versionId, string owner, string error, CancellationToken cancellationToken)
    {
        var record = await db.VersionInsights.AsNoTracking().SingleOrDefaultAsync(i => i.VersionId == versionId, cancellationToken);
        if (record is null || record.LeaseOwner != owner || record.State != InsightStates.Pending)
        {
            return;
        }

        if (record.Attempts >= options.Value.MaxAttempts)
        {
            await FinishAsync(versionId, owner, [], scan: false, $"reading failed {record.Attempts} times; the last error: {error}", cancellationToken);
            return;
        }

        // Free again after a pause that grows with each attempt.
        var retryAt = clock.GetUtcNow().UtcDateTime + TimeSpan.FromSeconds(10 * record.Attempts);
        await db.VersionInsights.Where(i => i.VersionId == versionId && i.LeaseOwner == owner)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.LeaseUntil, retryAt).SetProperty(i => i.Reason, error.Length <= 2048 ? error : error[..2048]), cancellationToken);
    }

    private async Task<string?> FinishAsync(long versionId, string owner, List<FileInsight> read, bool scan, string? reason, CancellationToken cancellationToken)
    {
        var metadata = InsightSummarizer.Metadata(read);
        ScanSummary? summary = scan && read.Count > 0 ? InsightSummarizer.Scan(read) : null;
        reason ??= InsightSummarizer.FailureReason(read);
        var state = await db.InTransactionWithRetryAsync(async ct =>
        {
            var record = await db.LockedRow<VersionInsightRecord>(versionId).SingleOrDefaultAsync(ct);
            if (record is null || record.LeaseOwner != owner || record.State != InsightStates.Pending)
            {
                return null;
            }

            if (read.Count > 0)
            {
                await files.StoreAsync(versionId, read, scan, ct);
            }

            var flagged = summary?.Verdict == ScanVerdicts.Dangerous && record.ScanVerdict != ScanVerdicts.Dangerous;
            record.State = reason is null ? InsightStates.Done : InsightStates.Failed;
            record.Reason = reason is null || reason.Length <= 2048 ? reason : reason[..2047] + "…";
            record.Analyzer = ModelInspector.Version;
            record.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            record.LeaseOwner = null;
            record.LeaseUntil = null;
            record.Framework = Cap(metadata.Framework, 64);
            record.Format = Cap(metadata.Format, 32);
            record.Parameters = metadata.Parameters;
            record.Precision = Cap(metadata.Precision, 32);
            record.Quantization = Cap(metadata.Quantization, 64);
            record.Details = JsonSerializer.Serialize(metadata, BerthJsonContext.Default.InsightMetadata);
            record.ScanVerdict = summary?.Verdict;
            record.DangerousFiles = summary?.Dangerous;
            record.SuspiciousFiles = summary?.Suspicious;
            record.ScannedFiles = summary?.Scanned;
            if (flagged)
            {
                var model = await db.Models.Include(m => m.Namespace).SingleAsync(m => m.Versions.Any(v => v.Id == versionId), ct);
                var number = await db.Versions.Where(v => v.Id == versionId).Select(v => v.Number).SingleAsync(ct);
                events.Publish(EventTypes.VersionFlagged, EventSubject.Of(model), number, data: new Dictionary<string, object?>
                {
                    ["verdict"] = ScanVerdicts.Dangerous,
                    ["files"] = read.Where(f => f.Scan?.Verdict == ScanVerdicts.Dangerous).Take(20).Select(f => new Dictionary<string, object?>
                    {
                        ["path"] = f.Path,
                        ["globals"] = f.Scan!.Globals.Where(g => g.Verdict == ScanVerdicts.Dangerous).Select(g => g.Global).Distinct().Take(10).ToList(),
                    }).ToList(),
                });
            }

            await db.SaveChangesAsync(ct);
            return record.State;
        }, cancellationToken);
        db.ChangeTracker.Clear();
        return state;
    }

    private static string? Cap(string? value, int max) => value is null || value.Length <= max ? value : value[..max];

    /// <summary>A version's insight with every file's reading.</summary>
    public async Task<VersionInsight> GetAsync(string ns, string model, string selector, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var id = await lookup.ResolveIdAsync(entity, ModelLookup.ParseSelector(selector), allowAnyState: true, cancellationToken);
        return await GetByIdAsync(id, cancellationToken);
    }

    /// <summary>A version's insight by its id (the caller checked access).</summary>
    public async Task<VersionInsight> GetByIdAsync(long id, CancellationToken cancellationToken)
    {
        var record = await db.VersionInsights.AsNoTracking().SingleOrDefaultAsync(i => i.VersionId == id, cancellationToken);
        var summary = ToInfo(record) ?? NotRead();
        return summary with { Files = record is null ? [] : await files.LoadAsync(id, cancellationToken) };
    }

    /// <summary>A version not (yet) committed, or committed before the server read models, has no insight.</summary>
    private static VersionInsight NotRead() => new(InsightStates.Pending, "not read yet: the version is not committed, or was committed before this server read models (berth insight recompute)");

    /// <summary>The summary carried by a version's record (null: none yet).</summary>
    public static VersionInsight? ToInfo(VersionInsightRecord? record)
    {
        if (record is null)
        {
            return null;
        }

        InsightMetadata? details = null;
        if (record.Details is { } json)
        {
            try
            {
                details = JsonSerializer.Deserialize(json, BerthJsonContext.Default.InsightMetadata);
            }
            catch (JsonException)
            {
                details = null;
            }
        }

        var metadata = record.State == InsightStates.Pending && details is null ? null : new InsightMetadata(
            record.Framework, record.Format, record.Parameters, record.Precision, record.Quantization, details?.Inputs, details?.Outputs, details?.Requirements);
        var scan = record.ScanVerdict is { } verdict
            ? new ScanSummary(verdict, record.DangerousFiles ?? 0, record.SuspiciousFiles ?? 0, record.ScannedFiles ?? 0)
            : null;
        return new VersionInsight(record.State, record.Reason, DtoMapper.Utc(record.UpdatedAt), metadata, scan);
    }

    public async Task<ScanPolicyInfo> GetPolicyAsync(string ns, CancellationToken cancellationToken)
    {
        var space = await lookup.GetNamespaceAsync(ns, cancellationToken);
        return new ScanPolicyInfo(ns, space.ScanPolicy ?? ScanPolicies.Warn);
    }

    /// <summary>Sets a namespace's scan policy (its admins); audited, and announced as <c>policy.changed</c>.</summary>
    public async Task<ScanPolicyInfo> SetPolicyAsync(string ns, string policy, CancellationToken cancellationToken)
    {
        if (!ScanPolicies.All.Contains(policy, StringComparer.Ordinal))
        {
            Fail.With(ErrorCodes.InvalidRequest, $"'{Names.Show(policy)}' is not a scan policy; use off, warn or block.");
        }

        Fail.If(Names.CheckNamespace(ns), ErrorCodes.InvalidName);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var space = await db.Namespaces.SingleOrDefaultAsync(n => n.Name == ns && n.DeletedAt == null, ct)
                ?? throw Fail.Error(ErrorCodes.NamespaceNotFound, $"Namespace '{ns}' does not exist.");
            var before = space.ScanPolicy ?? ScanPolicies.Warn;
            if (before == policy)
            {
                return true;
            }

            space.ScanPolicy = policy == ScanPolicies.Warn ? null : policy;
            audit.Record("scan_policy.set", ns, ns, new Dictionary<string, object?> { ["before"] = before, ["after"] = policy });
            events.Publish(EventTypes.PolicyChanged, EventSubject.Of(space), before: new Dictionary<string, object?> { ["scanPolicy"] = before },
                after: new Dictionary<string, object?> { ["scanPolicy"] = policy });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        db.ChangeTracker.Clear();
        return new ScanPolicyInfo(ns, policy);
    }

    /// <summary>
    /// Queues ready versions to be read again (all, a namespace's, a model's, or one): each gets a pending row, which the
    /// workers pick up. Answers how many were queued.
    /// </summary>
    public async Task<int> RecomputeAsync(RecomputeInsightRequest request, CancellationToken cancellationToken)
    {
        var query = db.Versions.AsNoTracking().Where(v => v.State == VersionState.Ready && v.Model.DeletedAt == null && v.Model.Namespace.DeletedAt == null);
        if (request.Namespace is { } ns)
        {
            await lookup.GetNamespaceAsync(ns, cancellationToken);
            query = query.Where(v => v.Model.Namespace.Name == ns);
            if (request.Model is { } model)
            {
                var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
                query = query.Where(v => v.ModelId == entity.Id);
                if (request.Version is { } selector)
                {
                    var id = await lookup.ResolveIdAsync(entity, ModelLookup.ParseSelector(selector), allowAnyState: false, cancellationToken);
                    query = query.Where(v => v.Id == id);
                }
            }
        }
        else if (request.Model is not null || request.Version is not null)
        {
            Fail.With(ErrorCodes.InvalidRequest, "A model needs its namespace, and a version its model.");
        }

        var ids = await query.OrderBy(v => v.Id).Select(v => v.Id).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var chunk in ids.Chunk(500))
        {
            await db.InTransactionWithRetryAsync(async ct =>
            {
                var existing = await db.VersionInsights.Where(i => chunk.Contains(i.VersionId)).ToListAsync(ct);
                foreach (var record in existing)
                {
                    record.State = InsightStates.Pending;
                    record.Reason = null;
                    record.QueuedAt = now;
                    record.Attempts = 0;
                    record.LeaseOwner = null;
                    record.LeaseUntil = null;
                }

                foreach (var id in chunk.Except(existing.Select(e => e.VersionId)))
                {
                    db.VersionInsights.Add(new VersionInsightRecord { VersionId = id, State = InsightStates.Pending, Analyzer = ModelInspector.Version, QueuedAt = now });
                }

                await db.SaveChangesAsync(ct);
                return true;
            }, cancellationToken);
            db.ChangeTracker.Clear();
        }

        foreach (var id in ids)
        {
            // The queue's room goes first; the rest wait for the workers' polling.
            if (!queue.Offer(id))
            {
                break;
            }
        }

        if (ids.Count > 0)
        {
            await db.InTransactionWithRetryAsync(async ct =>
            {
                audit.Record("insight.recompute", request.Namespace, request.Namespace is null ? "all versions" : $"{request.Namespace}{(request.Model is null ? "" : "/" + request.Model)}{(request.Version is null ? "" : ":" + request.Version)}",
                    new Dictionary<string, object?> { ["versions"] = ids.Count });
                await db.SaveChangesAsync(ct);
                return true;
            }, cancellationToken);
            db.ChangeTracker.Clear();
        }

        return ids.Count;
    }
}
