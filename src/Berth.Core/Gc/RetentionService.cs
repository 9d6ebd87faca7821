using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Governance;
using Berth.Core.Registry;
using Berth.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Gc;

/// <summary>
/// Retention policies per namespace or model, what they would delete now and what they keep and why (the dry run),
/// and applying them (garbage collection does, before it purges): each version they select is deleted like
/// <c>berth rm</c> (soft, audited, with its event), so it is purged only after the purge delay. A version live or
/// deploying in an environment, behind an alias or in a kept stage is never deleted.
/// </summary>
public sealed class RetentionService(
    RegistryDbContext db,
    ModelLookup lookup,
    StagePolicies policies,
    VersionService versions,
    LifecycleService lifecycle,
    NamespaceUsage usage,
    AuditTrail audit,
    TimeProvider clock)
{
    private const int BatchSize = 500;

    public async Task<RetentionPolicyInfo> GetAsync(string ns, string? model, CancellationToken cancellationToken)
    {
        var (space, entity) = await TargetAsync(ns, model, cancellationToken);
        var policy = await db.RetentionPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.NamespaceId == space.Id && p.ModelId == (entity == null ? 0 : entity.Id), cancellationToken)
            ?? throw Fail.Error(ErrorCodes.RetentionNotSet, $"{Show(ns, model)} has no retention policy of its own{(model is null ? "" : " (its namespace's applies, if any)")}.");
        return ToInfo(ns, model, policy);
    }

    public async Task<RetentionPolicyInfo> SetAsync(string ns, string? model, SetRetentionRequest request, CancellationToken cancellationToken)
    {
        var (space, entity) = await TargetAsync(ns, model, cancellationToken);
        if (request.KeepLast is < 0)
        {
            Fail.With(ErrorCodes.InvalidRequest, "keepLast cannot be negative.");
        }

        if (request.OlderThan < TimeSpan.Zero)
        {
            Fail.With(ErrorCodes.InvalidRequest, "olderThan cannot be negative.");
        }

        if (request.RunsOlderThan < TimeSpan.Zero)
        {
            Fail.With(ErrorCodes.InvalidRequest, "runsOlderThan cannot be negative.");
        }

        var stages = (request.KeepStages ?? []).Distinct(StringComparer.Ordinal).ToList();
        var known = await policies.StageNamesAsync(space.Id, entity?.Id, cancellationToken);
        foreach (var stage in stages)
        {
            Fail.If(Names.CheckStage(stage), ErrorCodes.InvalidStage);
            if (!known.Contains(stage, StringComparer.Ordinal))
            {
                Fail.With(ErrorCodes.InvalidStage, $"{Show(ns, model)} has no stage '{stage}'; its stages are {string.Join(", ", known)}.");
            }
        }

        var modelId = entity?.Id ?? 0;
        var policy = await db.InTransactionWithRetryAsync(async ct =>
        {
            var row = await db.RetentionPolicies.FirstOrDefaultAsync(p => p.NamespaceId == space.Id && p.ModelId == modelId, ct);
            if (row is null)
            {
                row = new RetentionPolicy { NamespaceId = space.Id, ModelId = modelId };
                db.RetentionPolicies.Add(row);
            }

            row.KeepLast = request.KeepLast;
            row.KeepStages = stages.Count == 0 ? null : string.Join(',', stages);
            row.KeepAliased = request.KeepAliased;
            row.OlderThan = request.OlderThan;
            row.RunsOlderThan = request.RunsOlderThan;
            row.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            audit.Record("retention.set", ns, Show(ns, model), new Dictionary<string, object?>
            {
                ["keepLast"] = row.KeepLast,
                ["keepStages"] = stages,
                ["keepAliased"] = row.KeepAliased,
                ["olderThan"] = row.OlderThan.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                ["runsOlderThan"] = row.RunsOlderThan?.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            });
            await db.SaveChangesAsync(ct);
            return row;
        }, cancellationToken);
        return ToInfo(ns, model, policy);
    }

    public async Task RemoveAsync(string ns, string? model, CancellationToken cancellationToken)
    {
        var (space, entity) = await TargetAsync(ns, model, cancellationToken);
        var modelId = entity?.Id ?? 0;
        await db.InTransactionWithRetryAsync(async ct =>
        {
            if (await db.RetentionPolicies.Where(p => p.NamespaceId == space.Id && p.ModelId == modelId).ExecuteDeleteAsync(ct) == 0)
            {
                Fail.With(ErrorCodes.RetentionNotSet, $"{Show(ns, model)} has no retention policy of its own.");
            }

            audit.Record("retention.remove", ns, Show(ns, model));
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>What the policies in effect in the namespace (or for the one model) would delete now, what they keep and why.</summary>
    public async Task<RetentionPreview> PreviewAsync(string ns, string? model, CancellationToken cancellationToken)
    {
        var (space, entity) = await TargetAsync(ns, model, cancellationToken);
        var deleted = new List<RetentionCandidate>();
        var kept = new List<RetentionCandidate>();
        var ids = new List<long>();
        await foreach (var decision in DecideAsync(space.Id, entity?.Id, cancellationToken))
        {
            if (decision.Delete)
            {
                deleted.Add(decision.Candidate);
                ids.Add(decision.VersionId);
            }
            else
            {
                kept.Add(decision.Candidate);
            }
        }

        var runs = new List<RetentionRun>();
        await foreach (var run in ExpiredRunsAsync(space.Id, entity?.Id, cancellationToken))
        {
            runs.Add(run.Info);
        }

        return new RetentionPreview(deleted, kept, await FreedBytesAsync(ids, cancellationToken), runs);
    }

    /// <summary>
    /// Deletes every version the policies select now, in every namespace (with <paramref name="dryRun"/>, only says
    /// which). Each deletion re-checks, in a transaction holding the model's lock, that nothing protects the version
    /// any more: an alias, a deployment, a kept stage or a newer version deleted meanwhile keeps it after all.
    /// </summary>
    public async Task<RetentionOutcome> ApplyAsync(bool dryRun, CancellationToken cancellationToken)
    {
        var spaces = await db.RetentionPolicies.AsNoTracking().Select(p => p.NamespaceId).Distinct().ToListAsync(cancellationToken);
        var selected = new List<Decision>();
        foreach (var space in spaces)
        {
            await foreach (var decision in DecideAsync(space, null, cancellationToken))
            {
                if (decision.Delete)
                {
                    selected.Add(decision);
                }
            }
        }

        var deleted = new List<Decision>();
        foreach (var decision in selected)
        {
            if (dryRun || await DeleteIfStillExpiredAsync(decision, cancellationToken))
            {
                deleted.Add(decision);
            }
        }

        var expiredRuns = new List<ExpiredRun>();
        foreach (var space in spaces)
        {
            await foreach (var run in ExpiredRunsAsync(space, null, cancellationToken))
            {
                expiredRuns.Add(run);
            }
        }

        var deletedRuns = new List<string>();
        foreach (var run in expiredRuns)
        {
            if (dryRun || await DeleteRunIfStillExpiredAsync(run, cancellationToken))
            {
                deletedRuns.Add(run.Info.Reference);
            }
        }

        var names = deleted.Select(d => d.Candidate.Reference).ToList();
        return new RetentionOutcome(names, await FreedBytesAsync(deleted.Select(d => d.VersionId).ToList(), cancellationToken), deletedRuns);
    }

    /// <summary>
    /// The live runs of each model whose effective policy (its own, else its namespace's) has <c>RunsOlderThan</c>: ended
    /// (not running) at least that long ago, and named by no version of the model in its lineage (any state: a deleted
    /// version's history still points at its run). Read a page at a time.
    /// </summary>
    private async IAsyncEnumerable<ExpiredRun> ExpiredRunsAsync(long namespaceId, long? onlyModel, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rules = await db.RetentionPolicies.AsNoTracking().Where(p => p.NamespaceId == namespaceId).ToDictionaryAsync(p => p.ModelId, cancellationToken);
        if (rules.Count == 0)
        {
            yield break;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var models = await db.Models.AsNoTracking().Where(m => m.NamespaceId == namespaceId && m.DeletedAt == null && (onlyModel == null || m.Id == onlyModel))
            .OrderBy(m => m.Name).Select(m => new { m.Id, m.Name, Namespace = m.Namespace.Name }).ToListAsync(cancellationToken);
        foreach (var model in models)
        {
            if ((!rules.TryGetValue(model.Id, out var rule) && !rules.TryGetValue(0, out rule)) || rule.RunsOlderThan is not { } age)
            {
                continue;
            }

            DateTime? cutoff = now - age;
            var after = 0L;
            while (true)
            {
                var page = await db.Runs.AsNoTracking()
                    .Where(r => r.ModelId == model.Id && r.Id > after && r.DeletedAt == null && r.Status != RunStatus.Running && r.EndedAt <= cutoff
                        && !db.Versions.Any(v => v.ModelId == r.ModelId && v.RunId == r.PublicId))
                    .OrderBy(r => r.Id).Take(BatchSize)
                    .Select(r => new { r.Id, r.PublicId, r.Name, r.Status, r.StartedAt, r.EndedAt })
                    .ToListAsync(cancellationToken);
                if (page.Count == 0)
                {
                    break;
                }

                foreach (var run in page)
                {
                    var info = new RetentionRun($"{model.Namespace}/{model.Name}", run.PublicId, run.Name, RunService.StatusName(run.Status),
                        DtoMapper.Utc(run.StartedAt), run.EndedAt is { } ended ? DtoMapper.Utc(ended) : null);
                    yield return new ExpiredRun(run.Id, model.Id, info, age);
                }

                after = page[^1].Id;
            }
        }
    }

    /// <summary>
    /// Deletes (softly, like <c>DELETE …/runs/{id}</c>; audit <c>run.delete</c> with the reason) a run retention selected,
    /// unless under its row lock it is deleted, running or named by a version after all; false when it was kept.
    /// </summary>
    private async Task<bool> DeleteRunIfStillExpiredAsync(ExpiredRun expired, CancellationToken cancellationToken) =>
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var run = await db.LockedRow<Run>(expired.RunId).SingleAsync(ct);
            var now = clock.GetUtcNow().UtcDateTime;
            if (run.DeletedAt is not null || run.Status == RunStatus.Running || run.EndedAt is not { } ended || ended > now - expired.Age
                || await db.Versions.AnyAsync(v => v.ModelId == run.ModelId && v.RunId == run.PublicId, ct))
            {
                db.ChangeTracker.Clear();
                return false;
            }

            run.DeletedAt = now;
            run.Revision++;
            var ns = expired.Info.Model[..expired.Info.Model.IndexOf('/', StringComparison.Ordinal)];
            audit.Record("run.delete", ns, $"{expired.Info.Model}/runs/{run.PublicId}", new Dictionary<string, object?>
            {
                ["reason"] = "retention",
                ["runsOlderThan"] = expired.Age.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            });
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            return true;
        }, cancellationToken);

    /// <summary>
    /// The bytes that deleting these versions frees once they are purged: their blobs that no ready or pending version
    /// outside them references, each counted once (versions that share bytes free them only together).
    /// </summary>
    private async Task<long> FreedBytesAsync(List<long> versionIds, CancellationToken cancellationToken)
    {
        if (versionIds.Count == 0)
        {
            return 0;
        }

        // Digests can be shared between chunks of versions: collect them first, then count each once.
        var total = 0L;
        var digests = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in versionIds.Chunk(BatchSize))
        {
            var ids = chunk.ToList();
            var used = await db.VersionFiles.AsNoTracking().Where(f => ids.Contains(f.VersionId)).Select(f => f.Digest).Distinct().ToListAsync(cancellationToken);
            digests.UnionWith(used);
        }

        var all = versionIds.ToList();
        foreach (var chunk in digests.Order(StringComparer.Ordinal).Chunk(BatchSize))
        {
            var candidates = chunk.ToList();
            total += await db.Blobs.AsNoTracking()
                .Where(b => candidates.Contains(b.Digest) && !db.VersionFiles.Any(f => f.Digest == b.Digest && !all.Contains(f.VersionId) &&
                    db.Versions.Any(v => v.Id == f.VersionId && (v.State == VersionState.Ready || v.State == VersionState.Pending))))
                .SumAsync(b => (long?)b.Size, cancellationToken) ?? 0;
        }

        return total;
    }

    /// <summary>Deletes a selected version unless something protects it now; false when it was kept after all.</summary>
    private async Task<bool> DeleteIfStillExpiredAsync(Decision decision, CancellationToken cancellationToken) =>
        await db.InTransactionWithRetryAsync(async ct =>
        {
            // The namespace's usage lock first, as every change of usage takes it (NamespaceUsage); then the model's, which
            // orders this against alias moves, stage changes and deployment records of the model.
            var namespaceId = await db.Models.Where(m => m.Id == decision.ModelId).Select(m => m.NamespaceId).SingleAsync(ct);
            await usage.LockAsync(namespaceId, ct);
            await lifecycle.LockModelAsync(decision.ModelId, ct);
            var version = await db.Versions.Include(v => v.Model).ThenInclude(m => m.Namespace).SingleAsync(v => v.Id == decision.VersionId, ct);
            var protectedNow = version.State != VersionState.Ready
                || (version.Stage is { } stage && decision.KeptStages.Contains(stage, StringComparer.Ordinal))
                || await db.Aliases.AnyAsync(a => a.VersionId == version.Id, ct)
                || await db.Deployments.AnyAsync(d => d.VersionId == version.Id && d.Current && (d.Status == DeploymentStatuses.Live || d.Status == DeploymentStatuses.Deploying), ct)
                || await db.Versions.CountAsync(v => v.ModelId == version.ModelId && v.State == VersionState.Ready && v.Number > version.Number, ct) < decision.KeepLast;
            if (protectedNow)
            {
                db.ChangeTracker.Clear();
                return false;
            }

            await versions.SoftDeleteAsync(Actor.System, version.Model, version, ct);
            return true;
        }, cancellationToken);

    /// <summary>
    /// The ready versions that the effective policy of each model (its own, else its namespace's) considers: past the
    /// newest N and old enough. Each is deleted unless something protects it (live or deploying in an environment, an
    /// alias, a kept stage); the decision carries the reasons. Read a page at a time: a model with 100,000 versions is
    /// never held in memory.
    /// </summary>
    private async IAsyncEnumerable<Decision> DecideAsync(long namespaceId, long? onlyModel, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rules = await db.RetentionPolicies.AsNoTracking().Where(p => p.NamespaceId == namespaceId).ToDictionaryAsync(p => p.ModelId, cancellationToken);
        if (rules.Count == 0)
        {
            yield break;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var models = await db.Models.AsNoTracking().Where(m => m.NamespaceId == namespaceId && m.DeletedAt == null && (onlyModel == null || m.Id == onlyModel))
            .OrderBy(m => m.Name).Select(m => new { m.Id, m.Name, Namespace = m.Namespace.Name }).ToListAsync(cancellationToken);
        foreach (var model in models)
        {
            if (!rules.TryGetValue(model.Id, out var rule) && !rules.TryGetValue(0, out rule))
            {
                continue;
            }

            var keepLast = rule.KeepLast ?? 0;
            var cutoff = now - rule.OlderThan;
            var kept = rule.KeepStages?.Split(',') ?? [];
            var expired = keepLast == 0
                ? $"older than {Age(rule.OlderThan)}; nothing keeps it"
                : $"older than {Age(rule.OlderThan)} and not among the newest {keepLast}; nothing keeps it";

            // The newest N ready versions are kept: candidates start at the one after them.
            var first = await db.Versions.AsNoTracking().Where(v => v.ModelId == model.Id && v.State == VersionState.Ready)
                .OrderByDescending(v => v.Number).Skip(keepLast).Select(v => (int?)v.Number).FirstOrDefaultAsync(cancellationToken);
            if (first is not { } start)
            {
                continue;
            }

            var before = start + 1;
            while (true)
            {
                var page = await db.Versions.AsNoTracking()
                    .Where(v => v.ModelId == model.Id && v.State == VersionState.Ready && v.Number < before && v.CreatedAt <= cutoff)
                    .OrderByDescending(v => v.Number).Take(BatchSize)
                    .Select(v => new { v.Id, v.Number, v.SemVer, v.CreatedAt, v.Stage, v.TotalSize })
                    .ToListAsync(cancellationToken);
                if (page.Count == 0)
                {
                    break;
                }

                var ids = page.Select(v => v.Id).ToList();
                var aliases = (await db.Aliases.AsNoTracking().Where(a => ids.Contains(a.VersionId)).Select(a => new { a.VersionId, a.Name }).ToListAsync(cancellationToken))
                    .ToLookup(a => a.VersionId, a => a.Name);
                var deployed = (await db.Deployments.AsNoTracking()
                        .Where(d => ids.Contains(d.VersionId) && d.Current && (d.Status == DeploymentStatuses.Live || d.Status == DeploymentStatuses.Deploying))
                        .Select(d => new { d.VersionId, d.Environment, d.Status }).ToListAsync(cancellationToken))
                    .ToLookup(d => d.VersionId);
                foreach (var version in page)
                {
                    var reasons = new List<string>();
                    foreach (var deployment in deployed[version.Id].OrderBy(d => d.Environment, StringComparer.Ordinal))
                    {
                        reasons.Add(deployment.Status == DeploymentStatuses.Live ? $"live in {deployment.Environment}" : $"deploying to {deployment.Environment}");
                    }

                    foreach (var alias in aliases[version.Id].Order(StringComparer.Ordinal))
                    {
                        reasons.Add($"alias {alias}");
                    }

                    if (version.Stage is { } stage && kept.Contains(stage, StringComparer.Ordinal))
                    {
                        reasons.Add($"in stage {stage}, which the policy keeps");
                    }

                    var delete = reasons.Count == 0;
                    var candidate = new RetentionCandidate($"{model.Namespace}/{model.Name}", version.Number, version.SemVer, DtoMapper.Utc(version.CreatedAt),
                        version.Stage, version.TotalSize, delete ? [expired] : reasons);
                    yield return new Decision(version.Id, model.Id, delete, candidate, kept, keepLast);
                }

                before = page[^1].Number;
            }
        }
    }

    /// <summary>A policy's age as the CLI takes it: 90d, 12h, 30m.</summary>
    private static string Age(TimeSpan age) =>
        age.Ticks % TimeSpan.TicksPerDay == 0 ? $"{age.TotalDays.ToString(System.Globalization.CultureInfo.InvariantCulture)}d"
        : age.Ticks % TimeSpan.TicksPerHour == 0 ? $"{age.TotalHours.ToString(System.Globalization.CultureInfo.InvariantCulture)}h"
        : $"{age.TotalMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture)}m";

    private async Task<(RegistryNamespace Space, RegisteredModel? Model)> TargetAsync(string ns, string? model, CancellationToken cancellationToken)
    {
        if (model is null)
        {
            return (await lookup.GetNamespaceAsync(ns, cancellationToken), null);
        }

        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        return (entity.Namespace, entity);
    }

    private static RetentionPolicyInfo ToInfo(string ns, string? model, RetentionPolicy policy) =>
        new(ns, model, policy.KeepLast, policy.KeepStages?.Split(',') ?? [], policy.KeepAliased, policy.OlderThan, DtoMapper.Utc(policy.UpdatedAt), policy.RunsOlderThan);

    private static string Show(string ns, string? model) => model is null ? $"namespace {ns}" : $"{ns}/{model}";

    /// <summary>A run retention selected, with the age its policy allows (re-checked when it is deleted).</summary>
    private sealed record ExpiredRun(long RunId, long ModelId, Berth.Contracts.Dtos.RetentionRun Info, TimeSpan Age);

    /// <summary>What retention decided for one version, with what the deletion must re-check.</summary>
    private sealed record Decision(long VersionId, long ModelId, bool Delete, RetentionCandidate Candidate, string[] KeptStages, int KeepLast);
}

