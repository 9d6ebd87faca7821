using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>
/// Where versions are in their lifecycle: stages and aliases, and the history of every change to
/// them (who, when, from what, to what, why).
/// </summary>
public sealed class LifecycleService(RegistryDbContext db, ModelLookup lookup, TimeProvider clock)
{
    public const int MaxCommentLength = 4096;

    /// <summary>Moves a ready version into a stage of its namespace's stage list, recording the transition. Returns the version id.</summary>
    public async Task<long> ChangeStageAsync(Actor actor, string ns, string model, string selector, StageChangeRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        CheckComment(request.Comment);
        var parsed = ModelLookup.ParseSelector(selector);
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var stages = ModelLookup.StageList(entity.Namespace);
        Fail.If(Names.CheckStage(request.Stage), ErrorCodes.InvalidStage);
        if (!stages.Contains(request.Stage, StringComparer.Ordinal))
        {
            Fail.With(ErrorCodes.InvalidStage, $"'{request.Stage}' is not a stage of namespace '{ns}'; its stages are: {string.Join(", ", stages)}.",
                new Dictionary<string, object?> { ["stages"] = stages });
        }

        var id = await lookup.ResolveIdAsync(entity, parsed, allowAnyState: false, cancellationToken);
        var version = await db.Versions.SingleAsync(v => v.Id == id, cancellationToken);
        var what = $"Version {ns}/{model}:{version.Number}";
        Revisions.Check(expectedRevision, version.Revision, what);
        if (string.Equals(version.Stage, request.Stage, StringComparison.Ordinal))
        {
            return id;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        db.History.Add(new ModelHistoryEntry
        {
            ModelId = entity.Id,
            Kind = HistoryKind.Stage,
            VersionId = version.Id,
            VersionNumber = version.Number,
            FromStage = version.Stage,
            ToStage = request.Stage,
            ActorId = actor.UserId,
            At = now,
            Comment = request.Comment,
        });
        version.Stage = request.Stage;
        version.StageChangedAt = now;
        version.Revision++;
        await Revisions.SaveAsync(db, what, cancellationToken);
        return id;
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

    /// <summary>Points an alias at a ready version (creating or moving it). <paramref name="expectedRevision"/> is the alias's If-Match.</summary>
    public async Task<(AliasInfo Alias, long Revision)> SetAliasAsync(Actor actor, string ns, string model, string alias, SetAliasRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckAlias(alias, stages: []), ErrorCodes.InvalidAlias);
        var parsed = ModelLookup.ParseSelector(request.Version ?? "");
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        Fail.If(Names.CheckAlias(alias, ModelLookup.StageList(entity.Namespace)), ErrorCodes.InvalidAlias);
        var id = await lookup.ResolveIdAsync(entity, parsed, allowAnyState: false, cancellationToken);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var version = await db.Versions.SingleAsync(v => v.Id == id, ct);
            var current = await db.Aliases.FirstOrDefaultAsync(a => a.ModelId == entity.Id && a.Name == alias, ct);
            if (expectedRevision is { } expected)
            {
                Revisions.Check(expected, current?.Revision ?? 0, $"Alias '{alias}'");
            }

            await PointAliasAsync(actor, entity, alias, version, ct);
            return true;
        }, cancellationToken);
        return await GetAliasAsync(ns, model, alias, cancellationToken);
    }

    public async Task RemoveAliasAsync(Actor actor, string ns, string model, string alias, long? expectedRevision, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var current = await db.Aliases.Include(a => a.Version).FirstOrDefaultAsync(a => a.ModelId == entity.Id && a.Name == alias, cancellationToken)
            ?? throw Fail.Error(ErrorCodes.AliasNotFound, $"Model '{ns}/{model}' has no alias '{alias}'.");
        Revisions.Check(expectedRevision, current.Revision, $"Alias '{alias}'");
        RecordAlias(actor, entity.Id, alias, current.Version.Number, null, null);
        db.Aliases.Remove(current);
        await Revisions.SaveAsync(db, $"Alias '{alias}'", cancellationToken);
    }

    /// <summary>History of a model, oldest first: stage changes, alias moves and deletions.</summary>
    public async Task<Page<HistoryEntry>> HistoryAsync(string ns, string model, string? kind, Paging paging, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var after = paging.AfterId();
        var query = db.History.AsNoTracking().Include(h => h.Actor).Where(h => h.ModelId == entity.Id && h.Id > after);
        if (kind is not null)
        {
            if (!Enum.TryParse<HistoryKind>(kind, ignoreCase: true, out var parsed) || int.TryParse(kind, out _))
            {
                throw Fail.Error(ErrorCodes.InvalidRequest, $"Unknown history kind '{Names.Show(kind)}': use stage, alias or deleted.");
            }

            query = query.Where(h => h.Kind == parsed);
        }

        var rows = await query.OrderBy(h => h.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, h => h.Id);
        return new Page<HistoryEntry>(page.Items.Select(DtoMapper.ToEntry).ToList(), page.NextCursor);
    }

    /// <summary>Creates or moves an alias inside the caller's transaction (used by commits and by <see cref="SetAliasAsync"/>).</summary>
    internal async Task PointAliasAsync(Actor actor, RegisteredModel model, string alias, ModelVersion version, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var current = await db.Aliases.Include(a => a.Version).FirstOrDefaultAsync(a => a.ModelId == model.Id && a.Name == alias, cancellationToken);
        if (current is null)
        {
            db.Aliases.Add(new ModelAlias { ModelId = model.Id, Name = alias, VersionId = version.Id, UpdatedAt = now, UpdatedById = actor.UserId, Revision = 1 });
            RecordAlias(actor, model.Id, alias, null, version.Number, version.Id);
        }
        else if (current.VersionId != version.Id)
        {
            RecordAlias(actor, model.Id, alias, current.Version.Number, version.Number, version.Id);
            current.VersionId = version.Id;
            current.UpdatedAt = now;
            current.UpdatedById = actor.UserId;
            current.Revision++;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Removes every alias that points at a version (before it is deleted), recording each removal.</summary>
    internal async Task RemoveAliasesOfAsync(Actor actor, RegisteredModel model, ModelVersion version, CancellationToken cancellationToken)
    {
        var aliases = await db.Aliases.Where(a => a.VersionId == version.Id).ToListAsync(cancellationToken);
        foreach (var alias in aliases)
        {
            RecordAlias(actor, model.Id, alias.Name, version.Number, null, null);
            db.Aliases.Remove(alias);
        }
    }

    private void RecordAlias(Actor actor, long modelId, string alias, int? from, int? to, long? versionId) =>
        db.History.Add(new ModelHistoryEntry
        {
            ModelId = modelId,
            Kind = HistoryKind.Alias,
            Alias = alias,
            VersionId = versionId,
            VersionNumber = to,
            PreviousVersionNumber = from,
            ActorId = actor.UserId,
            At = clock.GetUtcNow().UtcDateTime,
        });

    private static void CheckComment(string? comment)
    {
        if (comment is { Length: > MaxCommentLength })
        {
            Fail.With(ErrorCodes.InvalidRequest, $"The comment is longer than {MaxCommentLength} characters.");
        }
    }
}
