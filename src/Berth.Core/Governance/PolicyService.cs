using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Events;
using Berth.Core.Filtering;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Governance;

/// <summary>
/// Stage policies (per namespace, or per model replacing the namespace's) and protected aliases,
/// managed by namespace admins. Every change is audited.
/// </summary>
public sealed class PolicyService(RegistryDbContext db, ModelLookup lookup, StagePolicies policies, AuditTrail audit, EventLog events, TimeProvider clock)
{
    public const int MaxApprovals = 10;

    public async Task<PolicyInfo> GetAsync(string ns, string? model, CancellationToken cancellationToken)
    {
        var (space, entity) = await ScopeAsync(ns, model, cancellationToken);
        var rules = await policies.EffectiveAsync(space.Id, entity?.Id, cancellationToken);
        var inherited = entity is not null && rules.All(r => r.ModelId is null);
        return new PolicyInfo(ns, model, inherited, rules.Select(ToInfo).ToList());
    }

    /// <summary>Creates or changes one stage. The first change to a model's policy copies its namespace's rules.</summary>
    public async Task<PolicyInfo> SetStageAsync(Actor actor, string ns, string? model, string stage, SetStageRuleRequest request, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckStage(stage), ErrorCodes.InvalidStage);
        if (request.RequiredApprovals is < 0 or > MaxApprovals)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"requiredApprovals must be between 0 and {MaxApprovals}.");
        }

        if (request.Gate is { Length: > 0 } gate)
        {
            FilterParser.Parse(gate); // 400 invalid_filter with the position of the error
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            var (space, entity) = await ScopeAsync(ns, model, ct);
            await LockPoliciesAsync(space.Id, ct);
            var rules = await OwnRulesAsync(space.Id, entity?.Id, ct);
            var rule = rules.FirstOrDefault(r => r.Stage == stage);
            var before = rule is null ? null : Describe(rule);
            if (rule is null)
            {
                await EnsureNoAliasNamedAsync(space.Id, entity?.Id, stage, ct);
                rule = new StageRule { NamespaceId = space.Id, ModelId = entity?.Id, Stage = stage };
                var archive = rules.FindIndex(r => r.Stage == StagePolicies.ArchiveStage);
                rules.Insert(archive >= 0 ? archive : rules.Count, rule);
                db.StageRules.Add(rule);
            }

            if (request.Position is { } position)
            {
                rules.Remove(rule);
                rules.Insert(Math.Clamp(position, 0, rules.Count), rule);
            }

            for (var i = 0; i < rules.Count; i++)
            {
                rules[i].Position = i;
            }

            rule.Exclusive = request.Exclusive ?? rule.Exclusive;
            rule.RequiredApprovals = request.RequiredApprovals ?? rule.RequiredApprovals;
            rule.Gate = request.Gate is null ? rule.Gate : request.Gate.Length == 0 ? null : request.Gate;
            rule.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            rule.UpdatedById = actor.UserId;
            audit.Record("policy.set", ns, Scope(ns, model, stage), new Dictionary<string, object?> { ["before"] = before, ["after"] = Describe(rule) });
            Changed(space, entity, "stage.set", before is null ? null : new Dictionary<string, object?> { ["stage"] = stage, ["rule"] = before },
                new Dictionary<string, object?> { ["stage"] = stage, ["rule"] = Describe(rule) });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        return await GetAsync(ns, model, cancellationToken);
    }

    /// <summary>Removes a stage from a policy; refused while ready versions are in it.</summary>
    public async Task<PolicyInfo> RemoveStageAsync(Actor actor, string ns, string? model, string stage, CancellationToken cancellationToken)
    {
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var (space, entity) = await ScopeAsync(ns, model, ct);
            await LockPoliciesAsync(space.Id, ct);
            var rules = await OwnRulesAsync(space.Id, entity?.Id, ct);
            var rule = rules.FirstOrDefault(r => r.Stage == stage)
                ?? throw Fail.Error(ErrorCodes.StageNotFound, $"The policy of {Scope(ns, model, null)} has no stage '{stage}'.");
            if (rules.Count == 1)
            {
                Fail.With(ErrorCodes.Conflict, model is null
                    ? $"'{stage}' is the last stage of {Scope(ns, null, null)}; a policy keeps at least one stage."
                    : $"'{stage}' is the last stage of {Scope(ns, model, null)}'s own policy; use 'berth policy reset {ns}/{model}' to follow the namespace's policy again.");
            }

            var holders = db.Versions.Where(v => v.Stage == stage && v.State == VersionState.Ready && v.Model.NamespaceId == space.Id);
            if (entity is not null)
            {
                holders = holders.Where(v => v.ModelId == entity.Id);
            }

            if (await holders.AnyAsync(ct))
            {
                Fail.With(ErrorCodes.StageInUse, $"Versions are in stage '{stage}'; move them to another stage before removing it.");
            }

            rules.Remove(rule);
            db.StageRules.Remove(rule);
            for (var i = 0; i < rules.Count; i++)
            {
                rules[i].Position = i;
            }

            audit.Record("policy.remove", ns, Scope(ns, model, stage), new Dictionary<string, object?> { ["before"] = Describe(rule) });
            Changed(space, entity, "stage.remove", new Dictionary<string, object?> { ["stage"] = stage, ["rule"] = Describe(rule) }, null);
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        return await GetAsync(ns, model, cancellationToken);
    }

    /// <summary>Drops a model's own policy, so that it follows its namespace's again.</summary>
    public async Task<PolicyInfo> ResetModelAsync(Actor actor, string ns, string model, CancellationToken cancellationToken)
    {
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var (space, entity) = await ScopeAsync(ns, model, ct);
            await LockPoliciesAsync(space.Id, ct);
            var own = await db.StageRules.Where(r => r.ModelId == entity!.Id).ToListAsync(ct);
            if (own.Count > 0)
            {
                db.StageRules.RemoveRange(own);
                audit.Record("policy.reset", ns, Scope(ns, model, null));
                Changed(space, entity, "reset", null, null);
                await db.SaveChangesAsync(ct);
            }

            return true;
        }, cancellationToken);
        return await GetAsync(ns, model, cancellationToken);
    }

    public async Task<IReadOnlyList<ProtectedAliasInfo>> ProtectedAliasesAsync(string ns, string model, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var rows = await db.ProtectedAliases.AsNoTracking().Where(a => a.ModelId == entity.Id).OrderBy(a => a.Name).ToListAsync(cancellationToken);
        var names = await UserNamesAsync(rows.Select(r => r.CreatedById), cancellationToken);
        return rows.Select(r => new ProtectedAliasInfo(r.Name, r.RequiredApprovals, DtoMapper.Utc(r.CreatedAt), names.GetValueOrDefault(r.CreatedById, "system"))).ToList();
    }

    public async Task<ProtectedAliasInfo> ProtectAliasAsync(Actor actor, string ns, string model, string alias, ProtectAliasRequest request, CancellationToken cancellationToken)
    {
        if (request.RequiredApprovals is < 1 or > MaxApprovals)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"requiredApprovals must be between 1 and {MaxApprovals}.");
        }

        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        Fail.If(Names.CheckAlias(alias, await policies.StageNamesAsync(entity.NamespaceId, entity.Id, cancellationToken)), ErrorCodes.InvalidAlias);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var row = await db.ProtectedAliases.FirstOrDefaultAsync(a => a.ModelId == entity.Id && a.Name == alias, ct);
            if (row is null)
            {
                row = new ProtectedAlias { ModelId = entity.Id, Name = alias, CreatedAt = clock.GetUtcNow().UtcDateTime, CreatedById = actor.UserId };
                db.ProtectedAliases.Add(row);
            }

            row.RequiredApprovals = request.RequiredApprovals;
            audit.Record("alias.protect", ns, $"{ns}/{model} alias {alias}", new Dictionary<string, object?> { ["approvals"] = request.RequiredApprovals });
            Changed(entity.Namespace, entity, "alias.protect", null, new Dictionary<string, object?> { ["alias"] = alias, ["requiredApprovals"] = request.RequiredApprovals });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        return (await ProtectedAliasesAsync(ns, model, cancellationToken)).Single(a => a.Name == alias);
    }

    public async Task UnprotectAliasAsync(string ns, string model, string alias, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var row = await db.ProtectedAliases.FirstOrDefaultAsync(a => a.ModelId == entity.Id && a.Name == alias, ct)
                ?? throw Fail.Error(ErrorCodes.AliasNotFound, $"Alias '{alias}' of {ns}/{model} is not protected.");
            db.ProtectedAliases.Remove(row);
            audit.Record("alias.unprotect", ns, $"{ns}/{model} alias {alias}");
            Changed(entity.Namespace, entity, "alias.unprotect", new Dictionary<string, object?> { ["alias"] = alias }, null);
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
    }

    private void Changed(RegistryNamespace space, RegisteredModel? model, string change, IReadOnlyDictionary<string, object?>? before, IReadOnlyDictionary<string, object?>? after) =>
        events.Publish(EventTypes.PolicyChanged, model is null ? EventSubject.Of(space) : EventSubject.Of(model), null, before, after,
            new Dictionary<string, object?> { ["change"] = change });

    private async Task<(RegistryNamespace Space, RegisteredModel? Model)> ScopeAsync(string ns, string? model, CancellationToken cancellationToken)
    {
        if (model is null)
        {
            return (await lookup.GetNamespaceAsync(ns, cancellationToken), null);
        }

        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        return (entity.Namespace, entity);
    }

    /// <summary>
    /// Serialises the policy changes of a namespace and its models: each reads the rules, then renumbers
    /// them or checks that one stage is left, which two changes at once must not both do on the same rules
    /// (the namespace's row stays locked until the transaction ends).
    /// </summary>
    private async Task LockPoliciesAsync(long namespaceId, CancellationToken cancellationToken) =>
        await db.LockedRow<RegistryNamespace>(namespaceId).Select(n => n.Id).SingleAsync(cancellationToken);

    /// <summary>The rules of exactly this scope (tracked), copying the inherited ones for a model that has none yet.</summary>
    private async Task<List<StageRule>> OwnRulesAsync(long namespaceId, long? modelId, CancellationToken cancellationToken)
    {
        var own = await db.StageRules.Where(r => r.NamespaceId == namespaceId && r.ModelId == modelId).OrderBy(r => r.Position).ToListAsync(cancellationToken);
        if (own.Count > 0)
        {
            return own;
        }

        var inherited = await policies.EffectiveAsync(namespaceId, null, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var copies = inherited.Select(r => new StageRule
        {
            NamespaceId = namespaceId,
            ModelId = modelId,
            Stage = r.Stage,
            Position = r.Position,
            Exclusive = r.Exclusive,
            RequiredApprovals = r.RequiredApprovals,
            Gate = r.Gate,
            UpdatedAt = now,
            UpdatedById = r.UpdatedById,
        }).ToList();
        db.StageRules.AddRange(copies);
        return copies;
    }

    private async Task EnsureNoAliasNamedAsync(long namespaceId, long? modelId, string stage, CancellationToken cancellationToken)
    {
        var aliases = db.Aliases.Where(a => a.Version.Model.NamespaceId == namespaceId);
        if (modelId is not null)
        {
            aliases = aliases.Where(a => a.ModelId == modelId);
        }

        if (await aliases.AnyAsync(a => a.Name == stage, cancellationToken))
        {
            Fail.With(ErrorCodes.NameConflict, $"An alias is named '{stage}'; stages and aliases share one name space, so remove or rename the alias first.");
        }
    }

    private async Task<Dictionary<long, string>> UserNamesAsync(IEnumerable<long> ids, CancellationToken cancellationToken)
    {
        var list = ids.Distinct().ToList();
        return await db.Users.AsNoTracking().Where(u => list.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Name, cancellationToken);
    }

    private static string Scope(string ns, string? model, string? stage) =>
        (model is null ? $"namespace {ns}" : $"model {ns}/{model}") + (stage is null ? "" : $" stage {stage}");

    private static string Describe(StageRule rule) =>
        $"{rule.Stage}: exclusive={rule.Exclusive.ToString().ToLowerInvariant()}, approvals={rule.RequiredApprovals}, gate={rule.Gate ?? "none"}";

    public static StageRuleInfo ToInfo(StageRule rule) =>
        new(rule.Stage, rule.Position, rule.Exclusive, rule.RequiredApprovals, rule.Gate, DtoMapper.Utc(rule.UpdatedAt));
}
