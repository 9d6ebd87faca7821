using System.Linq.Expressions;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Filtering;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>
/// Finds ready versions across every model the caller can read, by a filter expression
/// (<see cref="FilterParser"/>), in a chosen order (<see cref="SearchSort"/>), with keyset pagination.
/// </summary>
public sealed class SearchService(RegistryDbContext db, AccessControl access, SparseMatches sparse)
{
    /// <summary>
    /// One page of matching versions in namespaces the actor may read. The cursor holds the sort, the
    /// sort value and the id of the last row, so pages stay stable while versions are added.
    /// </summary>
    public async Task<Page<VersionInfo>> SearchAsync(Actor actor, string? filter, string? sort, Paging paging, CancellationToken cancellationToken)
    {
        var order = SearchSort.Parse(sort);
        Expression<Func<ModelVersion, bool>> visible = v => v.State == VersionState.Ready && v.Model.DeletedAt == null && v.Model.Namespace.DeletedAt == null;
        if (await access.ReadableNamespaceIdsAsync(actor, cancellationToken) is { } readable)
        {
            visible = v => v.State == VersionState.Ready && v.Model.DeletedAt == null && v.Model.Namespace.DeletedAt == null && readable.Contains(v.Model.NamespaceId);
        }

        var query = db.Versions.AsNoTracking().Where(visible);
        List<long>? few = null;
        if (!string.IsNullOrWhiteSpace(filter))
        {
            var parsed = FilterParser.Parse(filter);
            if (await sparse.VersionsAsync(parsed, visible, cancellationToken) is { } found)
            {
                // Few matches: the page sorts these versions (see SparseMatches). Nothing else narrows the query, or the
                // database could still walk the (state, created_at) index for the sort's order and test each id.
                few = found.Select(f => f.VersionId).ToList();
                query = db.Versions.AsNoTracking().Where(v => few.Contains(v.Id));
            }
            else
            {
                query = query.Where(FilterTranslator.ToPredicate(parsed));
            }
        }

        // Two steps: the ids of the page (one query that the database can answer from its indexes, stopping
        // after limit + 1 rows), then the details of just those versions. Loading the details with the sorted,
        // filtered query itself would repeat that query once per related table (split queries).
        var after = paging.AfterSorted(order.ToString());
        var take = paging.Limit + 1;
        var ids = order.Field switch
        {
            SortField.Created => await ByCreated(query, order.Descending, after).Select(v => v.Id).Take(take).ToListAsync(cancellationToken),
            SortField.Version => await ByNumber(query, order.Descending, after).Select(v => v.Id).Take(take).ToListAsync(cancellationToken),
            SortField.Name => await ByName(query, order.Descending, after).Select(v => v.Id).Take(take).ToListAsync(cancellationToken),
            _ => await ByMetricAsync(query, few, order.MetricKey!, order.Descending, after, take, cancellationToken),
        };
        var loaded = await db.Versions.AsNoTracking().Where(v => ids.Contains(v.Id)).WithDetails().ToDictionaryAsync(v => v.Id, cancellationToken);
        var rows = ids.Where(loaded.ContainsKey).Select(id => loaded[id]).ToList();
        var page = paging.Page(rows, v => [order.ToString(), SortValue(v, order), v.Id]);
        var items = page.Items.Select(v => DtoMapper.ToInfo(v, false)).ToList();
        return new Page<VersionInfo>(items, page.NextCursor);
    }

    private static object? SortValue(ModelVersion v, SearchSort order) => order.Field switch
    {
        SortField.Created => v.CreatedAt,
        SortField.Version => v.Number,
        SortField.Name => v.Model.Name,
        _ => v.Metrics.FirstOrDefault(m => m.Name == order.MetricKey)?.Value,
    };

    private static IQueryable<ModelVersion> ByCreated(IQueryable<ModelVersion> query, bool descending, (string? Value, long Id)? after)
    {
        if (after is { } a)
        {
            var at = Ticks(a.Value);
            var id = a.Id;
            query = descending
                ? query.Where(v => v.CreatedAt < at || (v.CreatedAt == at && v.Id < id))
                : query.Where(v => v.CreatedAt > at || (v.CreatedAt == at && v.Id > id));
        }

        return descending
            ? query.OrderByDescending(v => v.CreatedAt).ThenByDescending(v => v.Id)
            : query.OrderBy(v => v.CreatedAt).ThenBy(v => v.Id);
    }

    private static IQueryable<ModelVersion> ByNumber(IQueryable<ModelVersion> query, bool descending, (string? Value, long Id)? after)
    {
        if (after is { } a)
        {
            var parsed = Paging.ParseLong(a.Value ?? "");
            var number = parsed is >= int.MinValue and <= int.MaxValue ? (int)parsed : throw InvalidCursor();
            var id = a.Id;
            query = descending
                ? query.Where(v => v.Number < number || (v.Number == number && v.Id < id))
                : query.Where(v => v.Number > number || (v.Number == number && v.Id > id));
        }

        return descending
            ? query.OrderByDescending(v => v.Number).ThenByDescending(v => v.Id)
            : query.OrderBy(v => v.Number).ThenBy(v => v.Id);
    }

    private static IQueryable<ModelVersion> ByName(IQueryable<ModelVersion> query, bool descending, (string? Value, long Id)? after)
    {
        if (after is { } a)
        {
            var name = a.Value ?? throw InvalidCursor();
            var id = a.Id;
            query = descending
                ? query.Where(v => string.Compare(v.Model.Name, name) < 0 || (v.Model.Name == name && v.Id < id))
                : query.Where(v => string.Compare(v.Model.Name, name) > 0 || (v.Model.Name == name && v.Id > id));
        }

        return descending
            ? query.OrderByDescending(v => v.Model.Name).ThenByDescending(v => v.Id)
            : query.OrderBy(v => v.Model.Name).ThenBy(v => v.Id);
    }

    /// <summary>
    /// By a metric's value; versions without the metric follow all others, in id order, in either direction.
    /// Two queries rather than one ordered by "value is null": versions with the metric, walked in the order of
    /// the (name, value, version_id) index so the database stops after <paramref name="take"/> rows; then,
    /// only when the page is not full, versions without it.
    /// </summary>
    private async Task<List<long>> ByMetricAsync(IQueryable<ModelVersion> query, List<long>? few, string key, bool descending, (string? Value, long Id)? after, int take, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        if (after is not { Value: null })
        {
            // With the few matches of a sparse search, their metrics are read by (version_id, name), not by walking the
            // metric's whole (name, value) index.
            var metrics = few is null ? db.VersionMetrics.Where(m => m.Name == key) : db.VersionMetrics.Where(m => m.Name == key && few.Contains(m.VersionId));
            var keyed = metrics
                .Join(query, m => m.VersionId, v => v.Id, (m, v) => new { m.VersionId, m.Value });
            if (after is { Value: { } text } present)
            {
                // The first condition bounds the index range; the second skips the rows already served.
                var value = Paging.ParseDouble(text);
                var id = present.Id;
                keyed = descending
                    ? keyed.Where(x => x.Value <= value && (x.Value < value || x.VersionId < id))
                    : keyed.Where(x => x.Value >= value && (x.Value > value || x.VersionId > id));
            }

            var ordered = descending
                ? keyed.OrderByDescending(x => x.Value).ThenByDescending(x => x.VersionId)
                : keyed.OrderBy(x => x.Value).ThenBy(x => x.VersionId);
            ids.AddRange(await ordered.Select(x => x.VersionId).Take(take).ToListAsync(cancellationToken));
        }

        if (ids.Count < take)
        {
            var missing = query.Where(v => !v.Metrics.Any(m => m.Name == key));
            if (after is { Value: null } last)
            {
                var id = last.Id;
                missing = descending ? missing.Where(v => v.Id < id) : missing.Where(v => v.Id > id);
            }

            missing = descending ? missing.OrderByDescending(v => v.Id) : missing.OrderBy(v => v.Id);
            ids.AddRange(await missing.Select(v => v.Id).Take(take - ids.Count).ToListAsync(cancellationToken));
        }

        return ids;
    }

    private static DateTime Ticks(string? text)
    {
        var ticks = Paging.ParseLong(text ?? "");
        return ticks >= 0 && ticks <= DateTime.MaxValue.Ticks ? new DateTime(ticks, DateTimeKind.Utc) : throw InvalidCursor();
    }

    private static RegistryException InvalidCursor() =>
        new(ErrorCodes.InvalidCursor, "The cursor is not one this server handed out; start again without a cursor.");
}
