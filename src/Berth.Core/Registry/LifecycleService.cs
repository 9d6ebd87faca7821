using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Events;
using Berth.Core.Governance;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>
/// Where versions are in their lifecycle: stages and aliases. A change into a protected stage or of a
/// protected alias becomes a transition request; a gated stage checks its gate first; an exclusive stage
/// archives its previous holder in the same transaction. Every change is recorded in the model's history
/// and the audit log.
/// </summary>
public sealed class LifecycleService(
    RegistryDbContext db,
    ModelLookup lookup,
    StagePolicies policies,
    GateCheck gates,
    AccessControl access,
    AuditTrail audit,
    EventLog events,
    TimeProvider clock)
{
    public const int MaxCommentLength = 4096;

    /// <summary>The outcome of a stage change or alias move, with the ids the caller maps to records.</summary>
    public sealed record Outcome(string Kind, long VersionId, long? RequestId);

    /// <summary>Moves a ready version into a stage of its model's policy, or opens a request when the stage is protected.</summary>
    public async Task<Outcome> ChangeStageAsync(Actor actor, string ns, string model, string selector, StageChangeRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        CheckComment(request.Comment);
        var parsed = ModelLookup.ParseSelector(selector);
        Fail.If(Names.CheckStage(request.Stage), ErrorCodes.InvalidStage);
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var rules = await policies.EffectiveAsync(entity.NamespaceId, entity.Id, cancellationToken);
        var rule = rules.FirstOrDefault(r => r.Stage == request.Stage)
            ?? throw Fail.Error(ErrorCodes.InvalidStage, $"'{request.Stage}' is not a stage of {ns}/{model}; its stages are: {string.Join(", ", rules.Select(r => r.Stage))}.",
                new Dictionary<string, object?> { ["stages"] = rules.Select(r => r.Stage).ToList() });
        var id = await lookup.ResolveIdAsync(entity, parsed, allowAnyState: false, cancellationToken);
        var current = await db.Versions.AsNoTracking().Where(v => v.Id == id).Select(v => new { v.Number, v.Stage, v.Revision }).SingleAsync(cancellationToken);
        Revisions.Check(expectedRevision, current.Revision, $"Version {ns}/{model}:{current.Number}");
        if (string.Equals(current.Stage, request.Stage, StringComparison.Ordinal))
        {
            return new Outcome(TransitionOutcomes.Unchanged, id, null);
        }

        GateResultInfo? gate = null;
        if (rule.Gate is not null)
        {
            gate = await gates.EvaluateAsync(rule.Gate, id, cancellationToken);
            GateCheck.Demand(gate, $"stage '{rule.Stage}'");
        }

        if (rule.RequiredApprovals > 0)
        {
            var requestId = await OpenRequestAsync(actor, entity, id, current.Number, RequestKind.Stage, rule.Stage, null, rule.RequiredApprovals, request.Comment, rule.Gate, gate, cancellationToken);
            return new Outcome(TransitionOutcomes.Requested, id, requestId);
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            await ApplyStageAsync(actor, entity, id, rule, request.Comment, null, ct);
            return true;
        }, cancellationToken);
        return new Outcome(TransitionOutcomes.Applied, id, null);
    }

    public async Task<Page<AliasInfo>> ListAliasesAsync(string ns, string model, Paging paging, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var after = paging.AfterString() ?? "";
        var rows = await db.Aliases.AsNoTracking().Include(a => a.UpdatedBy).Include(a => a.Version)
            .Where(a => a.ModelId == entity.Id && string.Compare(a.Name, after) > 0)
            .OrderBy(a => a.Name).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, a => a.Name);
        return new Page<AliasInfo>(page.Items.Select(a => DtoMapper.ToInfo(a, a.Version.Number)).ToList(), page.NextCursor);
    }

    public async Task<(AliasInfo Alias, long Revision)> GetAliasAsync(string ns, string model, string alias, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var row = await db.Aliases.AsNoTracking().Include(a => a.UpdatedBy).Include(a => a.Version)
            .FirstOrDefaultAsync(a => a.ModelId == entity.Id && a.Name == alias, cancellationToken)
            ?? throw Fail.Error(ErrorCodes.AliasNotFound, $"Model '{ns}/{model}' has no alias '{alias}'.");
        return (DtoMapper.ToInfo(row, row.Version.Number), row.Revision);
    }

    /// <summary>Points an alias at a ready version, or opens a request when the alias is protected.</summary>
    public async Task<Outcome> SetAliasAsync(Actor actor, string ns, string model, string alias, SetAliasRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckAlias(alias, stages: []), ErrorCodes.InvalidAlias);
        var parsed = ModelLookup.ParseSelector(request.Version ?? "");
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        Fail.If(Names.CheckAlias(alias, await policies.StageNamesAsync(entity.NamespaceId, entity.Id, cancellationToken)), ErrorCodes.InvalidAlias);
        var id = await lookup.ResolveIdAsync(entity, parsed, allowAnyState: false, cancellationToken);
        var current = await db.Aliases.AsNoTracking().Where(a => a.ModelId == entity.Id && a.Name == alias).Select(a => new { a.VersionId, a.Revision }).FirstOrDefaultAsync(cancellationToken);
        if (expectedRevision is { } expected)
        {
            Revisions.Check(expected, current?.Revision ?? 0, $"Alias '{alias}'");
        }

        if (current?.VersionId == id)
        {
            return new Outcome(TransitionOutcomes.Unchanged, id, null);
        }

        var protection = await db.ProtectedAliases.AsNoTracking().FirstOrDefaultAsync(p => p.ModelId == entity.Id && p.Name == alias, cancellationToken);
        if (protection is not null)
        {
            var number = await db.Versions.Where(v => v.Id == id).Select(v => v.Number).SingleAsync(cancellationToken);
            var requestId = await OpenRequestAsync(actor, entity, id, number, RequestKind.Alias, null, alias, protection.RequiredApprovals, null, null, null, cancellationToken);
            return new Outcome(TransitionOutcomes.Requested, id, requestId);
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            var version = await db.Versions.SingleAsync(v => v.Id == id, ct);
            await PointAliasAsync(actor, entity, alias, version, null, ct);
            return true;
        }, cancellationToken);
        return new Outcome(TransitionOutcomes.Applied, id, null);
    }

    /// <summary>Removes an alias; a protected one only by a namespace admin.</summary>
    public async Task RemoveAliasAsync(Actor actor, string ns, string model, string alias, long? expectedRevision, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        if (await db.ProtectedAliases.AnyAsync(p => p.ModelId == entity.Id && p.Name == alias, cancellationToken))
        {
            await access.DemandAsync(actor, Permission.Admin, ns, cancellationToken);
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            await LockModelAsync(entity.Id, ct);
            var current = await db.Aliases.Include(a => a.Version).FirstOrDefaultAsync(a => a.ModelId == entity.Id && a.Name == alias, ct)
                ?? throw Fail.Error(ErrorCodes.AliasNotFound, $"Model '{ns}/{model}' has no alias '{alias}'.");
            Revisions.Check(expectedRevision, current.Revision, $"Alias '{alias}'");
            RecordAlias(actor, entity, alias, current.Version.Number, null, null, null);
            audit.Record("alias.remove", ns, $"{ns}/{model} alias {alias}", new Dictionary<string, object?> { ["was"] = current.Version.Number });
            db.Aliases.Remove(current);
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Applies a stage change inside the caller's transaction: for an exclusive stage the previous holders
    /// move to <c>archived</c> (or leave the stage when the policy has none) first.
    /// </summary>
    internal async Task ApplyStageAsync(Actor actor, RegisteredModel model, long versionId, StageRule rule, string? comment, long? requestId, CancellationToken cancellationToken)
    {
        await LockModelAsync(model.Id, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var version = await db.Versions.SingleAsync(v => v.Id == versionId, cancellationToken);
        if (version.State != VersionState.Ready)
        {
            Fail.With(ErrorCodes.VersionNotReady, $"Version {model.Namespace.Name}/{model.Name}:{version.Number} is {DtoMapper.StateName(version.State)}.");
        }

        var stages = await policies.StageNamesAsync(model.NamespaceId, model.Id, cancellationToken);
        if (rule.Exclusive)
        {
            var archive = stages.Contains(StagePolicies.ArchiveStage, StringComparer.Ordinal) && rule.Stage != StagePolicies.ArchiveStage ? StagePolicies.ArchiveStage : null;
            var holders = await db.Versions.Where(v => v.ModelId == model.Id && v.Stage == rule.Stage && v.Id != versionId && v.State == VersionState.Ready).ToListAsync(cancellationToken);
            foreach (var holder in holders)
            {
                RecordStage(actor, model, holder, rule.Stage, archive, $"archived: {model.Namespace.Name}/{model.Name}:{version.Number} entered exclusive stage '{rule.Stage}'", requestId, now);
                audit.Record("stage.change", model.Namespace.Name, $"{model.Namespace.Name}/{model.Name}:{holder.Number}", new Dictionary<string, object?> { ["from"] = rule.Stage, ["to"] = archive, ["reason"] = "exclusive" });
                holder.Stage = archive;
                holder.StageChangedAt = now;
                holder.Revision++;
            }
        }

        RecordStage(actor, model, version, version.Stage, rule.Stage, comment, requestId, now);
        audit.Record("stage.change", model.Namespace.Name, $"{model.Namespace.Name}/{model.Name}:{version.Number}",
            new Dictionary<string, object?> { ["from"] = version.Stage, ["to"] = rule.Stage, ["comment"] = comment, ["request"] = requestId });
        version.Stage = rule.Stage;
        version.StageChangedAt = now;
        version.Revision++;
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Creates or moves an alias inside the caller's transaction (commits, alias moves, applied requests).</summary>
    internal async Task PointAliasAsync(Actor actor, RegisteredModel model, string alias, ModelVersion version, long? requestId, CancellationToken cancellationToken)
    {
        await LockModelAsync(model.Id, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var current = await db.Aliases.Include(a => a.Version).FirstOrDefaultAsync(a => a.ModelId == model.Id && a.Name == alias, cancellationToken);
        var target = $"{model.Namespace.Name}/{model.Name} alias {alias}";
        if (current is null)
        {
            db.Aliases.Add(new ModelAlias { ModelId = model.Id, Name = alias, VersionId = version.Id, UpdatedAt = now, UpdatedById = actor.UserId > 0 ? actor.UserId : version.CreatedById, Revision = 1 });
            RecordAlias(actor, model, alias, null, version.Number, version.Id, requestId);
            audit.Record("alias.set", model.Namespace.Name, target, new Dictionary<string, object?> { ["to"] = version.Number, ["request"] = requestId });
        }
        else if (current.VersionId != version.Id)
        {
            RecordAlias(actor, model, alias, current.Version.Number, version.Number, version.Id, requestId);
            audit.Record("alias.set", model.Namespace.Name, target, new Dictionary<string, object?> { ["from"] = current.Version.Number, ["to"] = version.Number, ["request"] = requestId });
            current.VersionId = version.Id;
            current.UpdatedAt = now;
            current.UpdatedById = actor.UserId > 0 ? actor.UserId : current.UpdatedById;
            current.Revision++;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Removes every alias that points at a version (before it is deleted), recording each removal.</summary>
    internal async Task RemoveAliasesOfAsync(Actor actor, RegisteredModel model, ModelVersion version, CancellationToken cancellationToken)
    {
        var aliases = await db.Aliases.Where(a => a.VersionId == version.Id).ToListAsync(cancellationToken);
        if (aliases.Count > 0)
        {
            await LockModelAsync(model.Id, cancellationToken);
        }

        foreach (var alias in aliases)
        {
            RecordAlias(actor, model, alias.Name, version.Number, null, null, null);
            audit.Record("alias.remove", model.Namespace.Name, $"{model.Namespace.Name}/{model.Name} alias {alias.Name}", new Dictionary<string, object?> { ["was"] = version.Number, ["reason"] = "version deleted" });
            db.Aliases.Remove(alias);
        }
    }

    /// <summary>
    /// Opens a request for a protected target. An older open request for the same target (the same
    /// stage, or the same alias, of the model) is superseded: one open request per target.
    /// </summary>
    private async Task<long> OpenRequestAsync(Actor actor, RegisteredModel model, long versionId, int number, RequestKind kind, string? stage, string? alias,
        int approvals, string? comment, string? gate, GateResultInfo? gateResult, CancellationToken cancellationToken) =>
        await db.InTransactionWithRetryAsync(
            ct => OpenRequestInTransactionAsync(actor, model, versionId, number, kind, stage, alias, approvals, comment, gate, gateResult, ct),
            cancellationToken);

    /// <summary><see cref="OpenRequestAsync"/> inside the caller's transaction.</summary>
    internal async Task<long> OpenRequestInTransactionAsync(Actor actor, RegisteredModel model, long versionId, int number, RequestKind kind, string? stage, string? alias,
        int approvals, string? comment, string? gate, GateResultInfo? gateResult, CancellationToken ct)
    {
        await LockModelAsync(model.Id, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var older = await db.Requests.Where(r => r.ModelId == model.Id && r.State == RequestState.Open && r.Kind == kind && r.Stage == stage && r.Alias == alias).ToListAsync(ct);
        var request = new TransitionRequest
        {
            ModelId = model.Id,
            VersionId = versionId,
            Kind = kind,
            Stage = stage,
            Alias = alias,
            State = RequestState.Open,
            RequiredApprovals = approvals,
            RequesterId = actor.UserId,
            Comment = comment,
            CreatedAt = now,
            Gate = gate,
            GateResult = gateResult is null ? null : GateCheck.Serialize(gateResult),
            Revision = 1,
        };
        db.Requests.Add(request);
        await db.SaveChangesAsync(ct);
        foreach (var previous in older)
        {
            Close(actor, model, previous, RequestState.Superseded, $"superseded by request #{request.Id}", now);
        }

        RecordRequest(actor, model, request, number, "opened", comment, now);
        audit.Record("request.open", model.Namespace.Name, $"request #{request.Id}", new Dictionary<string, object?>
        {
            ["version"] = $"{model.Namespace.Name}/{model.Name}:{number}",
            ["target"] = kind == RequestKind.Stage ? $"stage {stage}" : $"alias {alias}",
            ["approvals"] = approvals,
            ["gate"] = gateResult?.Summary,
        });
        await db.SaveChangesAsync(ct);
        return request.Id;
    }

    /// <summary>
    /// Points the aliases a push asked for at its version when it becomes ready; a protected alias (protected
    /// while the push was running) gets a request instead, like <c>alias set</c>.
    /// </summary>
    internal async Task PointPushedAliasesAsync(Actor actor, RegisteredModel model, ModelVersion version, IEnumerable<string> aliases, CancellationToken ct)
    {
        foreach (var alias in aliases)
        {
            var protection = await db.ProtectedAliases.AsNoTracking().FirstOrDefaultAsync(p => p.ModelId == model.Id && p.Name == alias, ct);
            if (protection is null)
            {
                await PointAliasAsync(actor, model, alias, version, null, ct);
            }
            else
            {
                await OpenRequestInTransactionAsync(actor, model, version.Id, version.Number, RequestKind.Alias, null, alias, protection.RequiredApprovals, "pushed with this alias", null, null, ct);
            }
        }
    }

    /// <summary>Refuses a push that names protected aliases: those move only through approved requests.</summary>
    internal async Task EnsureNotProtectedAsync(RegisteredModel model, IReadOnlyCollection<string> aliases, CancellationToken ct)
    {
        if (aliases.Count == 0)
        {
            return;
        }

        var protectedName = await db.ProtectedAliases.AsNoTracking().Where(p => p.ModelId == model.Id && aliases.Contains(p.Name)).Select(p => p.Name).FirstOrDefaultAsync(ct);
        if (protectedName is not null)
        {
            Fail.With(ErrorCodes.AliasProtected, $"Alias '{protectedName}' of {model.Namespace.Name}/{model.Name} is protected: push without it, then 'berth alias set {model.Namespace.Name}/{model.Name}:<version> {protectedName}' opens a request for approval.");
        }
    }

    /// <summary>
    /// Serialises changes to a model's stages, aliases and requests: bumping the model's revision locks
    /// its row until the transaction ends (PostgreSQL; SQLite has one writer anyway), so two promotions
    /// into an exclusive stage cannot both read "no other holder". The model's ETag covers its stage
    /// holders and aliases, so it changes with them. Take it before the transaction first saves audit
    /// entries (<see cref="Audit.AuditChainInterceptor"/> locks the chain's head until the end), or two
    /// transactions can wait on each other's lock until the database aborts one.
    /// </summary>
    internal async Task LockModelAsync(long modelId, CancellationToken cancellationToken) =>
        await db.Models.Where(m => m.Id == modelId).ExecuteUpdateAsync(s => s.SetProperty(m => m.Revision, m => m.Revision + 1), cancellationToken);

    /// <summary>Closes a request (tracked) with a final state, in the caller's transaction.</summary>
    /// <summary>
    /// Cancels the open requests of a model (or of one of its versions) that is being deleted, in the caller's
    /// transaction: nobody can act on them any more, so they must not wait in request lists for ever.
    /// </summary>
    internal async Task CancelOpenRequestsAsync(Actor actor, RegisteredModel model, long? versionId, string reason, CancellationToken ct)
    {
        var open = await db.Requests.Where(r => r.ModelId == model.Id && r.State == RequestState.Open && (versionId == null || r.VersionId == versionId)).ToListAsync(ct);
        if (open.Count == 0)
        {
            return;
        }

        // Their versions, tracked, so that history and events name the version numbers.
        var versionIds = open.Select(r => r.VersionId).Distinct().ToList();
        await db.Versions.Where(v => versionIds.Contains(v.Id)).LoadAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var request in open)
        {
            Close(actor, model, request, RequestState.Cancelled, reason, now);
        }
    }

    internal void Close(Actor actor, RegisteredModel model, TransitionRequest request, RequestState state, string? reason, DateTime now)
    {
        request.State = state;
        request.ClosedAt = now;
        request.ClosedById = actor.IsUser ? actor.UserId : null;
        request.CloseReason = reason;
        request.Revision++;
        var number = db.Versions.Local.FirstOrDefault(v => v.Id == request.VersionId)?.Number;
        RecordRequest(actor, model, request, number, state.ToString().ToLowerInvariant(), reason, now);
        var action = state switch
        {
            RequestState.Rejected => "request.reject",
            RequestState.Cancelled => "request.cancel",
            _ => "request.supersede",
        };
        audit.Record(action, model.Namespace.Name, $"request #{request.Id}", new Dictionary<string, object?> { ["reason"] = reason });
    }

    internal void RecordRequest(Actor actor, RegisteredModel model, TransitionRequest request, int? number, string @event, string? comment, DateTime now)
    {
        db.History.Add(new ModelHistoryEntry
        {
            ModelId = model.Id,
            Kind = HistoryKind.Request,
            Event = @event,
            RequestId = request.Id,
            VersionId = request.VersionId,
            VersionNumber = number,
            ToStage = request.Stage,
            Alias = request.Alias,
            ActorId = ActorId(actor),
            At = now,
            Comment = comment,
        });
        events.Publish($"request.{@event}", EventSubject.Of(model), number, data: new Dictionary<string, object?>
        {
            ["request"] = request.Id,
            ["target"] = request.Kind == RequestKind.Stage ? "stage" : "alias",
            ["stage"] = request.Stage,
            ["alias"] = request.Alias,
            ["requiredApprovals"] = request.RequiredApprovals,
            ["comment"] = comment,
        });
    }

    private void RecordStage(Actor actor, RegisteredModel model, ModelVersion version, string? from, string? to, string? comment, long? requestId, DateTime now)
    {
        db.History.Add(new ModelHistoryEntry
        {
            ModelId = model.Id,
            Kind = HistoryKind.Stage,
            VersionId = version.Id,
            VersionNumber = version.Number,
            FromStage = from,
            ToStage = to,
            ActorId = ActorId(actor),
            At = now,
            Comment = comment,
            RequestId = requestId,
        });
        events.Publish(EventTypes.StageChanged, EventSubject.Of(model), version.Number,
            new Dictionary<string, object?> { ["stage"] = from },
            new Dictionary<string, object?> { ["stage"] = to },
            new Dictionary<string, object?> { ["comment"] = comment, ["request"] = requestId });
    }

    private void RecordAlias(Actor actor, RegisteredModel model, string alias, int? from, int? to, long? versionId, long? requestId)
    {
        db.History.Add(new ModelHistoryEntry
        {
            ModelId = model.Id,
            Kind = HistoryKind.Alias,
            Alias = alias,
            VersionId = versionId,
            VersionNumber = to,
            PreviousVersionNumber = from,
            ActorId = ActorId(actor),
            At = clock.GetUtcNow().UtcDateTime,
            RequestId = requestId,
        });
        events.Publish(to is null ? EventTypes.AliasRemoved : EventTypes.AliasMoved, EventSubject.Of(model), to ?? from,
            new Dictionary<string, object?> { ["version"] = from },
            new Dictionary<string, object?> { ["version"] = to },
            new Dictionary<string, object?> { ["alias"] = alias, ["request"] = requestId });
    }

    private static long? ActorId(Actor actor) => actor.IsUser ? actor.UserId : null;

    private static void CheckComment(string? comment)
    {
        if (comment is { Length: > MaxCommentLength })
        {
            Fail.With(ErrorCodes.InvalidRequest, $"The comment is longer than {MaxCommentLength} characters.");
        }
    }
}
