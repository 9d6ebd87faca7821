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
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Gc;

/// <summary>
/// Retention policies per namespace or model, what they would delete now (the dry run), and applying them
/// (garbage collection does, before it purges): each version they select is deleted like <c>berth rm</c>
/// (soft, audited, with its event), so it is purged only after the purge delay.
/// </summary>
public sealed class RetentionService(
    RegistryDbContext db,
    ModelLookup lookup,
    StagePolicies policies,
    VersionService versions,
    AuditTrail audit,
    TimeProvider clock)
{
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
            row.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            audit.Record("retention.set", ns, Show(ns, model), new Dictionary<string, object?>
            {
                ["keepLast"] = row.KeepLast,
                ["keepStages"] = stages,
                ["keepAliased"] = row.KeepAliased,
                ["olderThan"] = row.OlderThan.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
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

    /// <summary>What the policies in effect in the namespace (or for the one model) would delete now.</summary>
    public async Task<RetentionPreview> PreviewAsync(string ns, string? model, CancellationToken cancellationToken)
    {
        var (space, entity) = await TargetAsync(ns, model, cancellationToken);
        var found = new List<RetentionCandidate>();
        await foreach (var candidate in CandidatesAsync(space.Id, entity?.Id, cancellationToken))
        {
            found.Add(candidate);
        }

        return new RetentionPreview(found);
    }

    /// <summary>Deletes every version the policies select now, in every namespace; answers how many.</summary>
    public async Task<int> ApplyAsync(bool dryRun, CancellationToken cancellationToken)
    {
        var spaces = await db.RetentionPolicies.AsNoTracking().Select(p => p.NamespaceId).Distinct().ToListAsync(cancellationToken);
        var selected = new List<RetentionCandidate>();
        foreach (var space in spaces)
        {
            await foreach (var candidate in CandidatesAsync(space, null, cancellationToken))
            {
                selected.Add(candidate);
            }
        }

        if (!dryRun)
        {
            foreach (var candidate in selected)
            {
                var (ns, name) = Split(candidate.Model);
                await versions.DeleteAsync(Actor.System, ns, name, candidate.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), null, cancellationToken);
            }
        }

        return selected.Count;
    }

    /// <summary>
    /// The ready versions that the effective policy of each model (its own, else its namespace's) selects:
    /// older than the age, not among the newest N, not in a kept stage, not aliased when aliases are kept.
    /// </summary>
    private async IAsyncEnumerable<RetentionCandidate> CandidatesAsync(long namespaceId, long? onlyModel, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
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

            // The database picks the versions (past the newest N, old enough, not kept by stage or alias) and streams
            // them: a model with 100,000 versions is never held in memory.
            var cutoff = now - rule.OlderThan;
            var kept = rule.KeepStages?.Split(',') ?? [];
            var keepAliased = rule.KeepAliased;
            var selected = db.Versions.AsNoTracking().Where(v => v.ModelId == model.Id && v.State == VersionState.Ready)
                .OrderByDescending(v => v.Number)
                .Skip(rule.KeepLast ?? 0)
                .Where(v => v.CreatedAt <= cutoff && (v.Stage == null || !kept.Contains(v.Stage)) && !(keepAliased && v.Aliases.Any()))
                .Select(v => new { v.Number, v.SemVer, v.CreatedAt, v.Stage, v.TotalSize })
                .AsAsyncEnumerable();
            await foreach (var version in selected.WithCancellation(cancellationToken))
            {
                yield return new RetentionCandidate($"{model.Namespace}/{model.Name}", version.Number, version.SemVer, DtoMapper.Utc(version.CreatedAt), version.Stage, version.TotalSize);
            }
        }
    }

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
        new(ns, model, policy.KeepLast, policy.KeepStages?.Split(',') ?? [], policy.KeepAliased, policy.OlderThan, DtoMapper.Utc(policy.UpdatedAt));

    private static string Show(string ns, string? model) => model is null ? $"namespace {ns}" : $"{ns}/{model}";

    private static (string Namespace, string Model) Split(string reference)
    {
        var slash = reference.IndexOf('/', StringComparison.Ordinal);
        return (reference[..slash], reference[(slash + 1)..]);
    }
}
