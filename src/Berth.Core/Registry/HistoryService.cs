using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>
/// A model's history (stage changes, alias moves, deletions, requests), and time travel: which versions
/// held a stage, or which version an alias named, at a given moment.
/// </summary>
public sealed class HistoryService(RegistryDbContext db, ModelLookup lookup)
{
    /// <summary>History of a model, oldest first; <paramref name="kind"/> filters (stage, alias, deleted, request).</summary>
    public async Task<Page<HistoryEntry>> ListAsync(string ns, string model, string? kind, string? stage, string? alias, Paging paging, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var after = paging.AfterId();
        var query = db.History.AsNoTracking().Include(h => h.Actor).Where(h => h.ModelId == entity.Id && h.Id > after);
        if (kind is not null)
        {
            var parsed = ParseKind(kind);
            query = query.Where(h => h.Kind == parsed);
        }

        if (stage is not null)
        {
            query = query.Where(h => h.FromStage == stage || h.ToStage == stage);
        }

        if (alias is not null)
        {
            query = query.Where(h => h.Alias == alias);
        }

        var rows = await query.OrderBy(h => h.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, h => h.Id);
        return new Page<HistoryEntry>(page.Items.Select(DtoMapper.ToEntry).ToList(), page.NextCursor);
    }

    /// <summary>
    /// A model's history newest first (a timeline), with keyset pagination on the entry id; with <paramref name="versionId"/>,
    /// only the entries about that version (its stage changes, aliases pointed at it, its requests, its deletion).
    /// </summary>
    public async Task<Page<HistoryEntry>> ListNewestAsync(string ns, string model, long? versionId, Paging paging, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var before = paging.Parts is null ? long.MaxValue : paging.AfterId();
        var query = versionId is { } id
            ? db.History.Where(h => h.VersionId == id && h.ModelId == entity.Id)
            : db.History.Where(h => h.ModelId == entity.Id);
        var rows = await query.AsNoTracking().Include(h => h.Actor).Where(h => h.Id < before)
            .OrderByDescending(h => h.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, h => h.Id);
        return new Page<HistoryEntry>(page.Items.Select(DtoMapper.ToEntry).ToList(), page.NextCursor);
    }

    /// <summary>Which versions were in <paramref name="stage"/> (or which version <paramref name="alias"/> named) at <paramref name="at"/>.</summary>
    public async Task<HoldersInfo> HoldersAsync(string ns, string model, DateTimeOffset at, string? stage, string? alias, CancellationToken cancellationToken)
    {
        if ((stage is null) == (alias is null))
        {
            Fail.With(ErrorCodes.InvalidRequest, "Ask about exactly one of 'stage' and 'alias'.");
        }

        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var moment = at.UtcDateTime;
        if (alias is not null)
        {
            Fail.If(Names.CheckAlias(alias, stages: []), ErrorCodes.InvalidAlias);
            var last = await db.History.AsNoTracking()
                .Where(h => h.ModelId == entity.Id && h.Kind == HistoryKind.Alias && h.Alias == alias && h.At <= moment)
                .OrderByDescending(h => h.Id).Select(h => h.VersionNumber).FirstOrDefaultAsync(cancellationToken);
            return new HoldersInfo(ns, model, at, null, alias, last is { } n ? [n] : []);
        }

        Fail.If(Names.CheckStage(stage), ErrorCodes.InvalidStage);
        var events = await db.History.AsNoTracking()
            .Where(h => h.ModelId == entity.Id && (h.Kind == HistoryKind.Stage || h.Kind == HistoryKind.Deleted) && h.At <= moment && h.VersionNumber != null)
            .OrderBy(h => h.Id)
            .Select(h => new { h.Kind, Number = h.VersionNumber!.Value, h.ToStage })
            .ToListAsync(cancellationToken);
        var stageOf = new Dictionary<int, string?>();
        foreach (var e in events)
        {
            stageOf[e.Number] = e.Kind == HistoryKind.Deleted ? null : e.ToStage;
        }

        return new HoldersInfo(ns, model, at, stage, null, stageOf.Where(p => p.Value == stage).Select(p => p.Key).Order().ToList());
    }

    private static HistoryKind ParseKind(string kind) => kind switch
    {
        "stage" => HistoryKind.Stage,
        "alias" => HistoryKind.Alias,
        "deleted" => HistoryKind.Deleted,
        "request" => HistoryKind.Request,
        _ => throw Fail.Error(ErrorCodes.InvalidRequest, $"Unknown history kind '{Names.Show(kind)}': use stage, alias, deleted or request."),
    };
}
