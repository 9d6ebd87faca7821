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
public sealed class SearchService(RegistryDbContext db, AccessControl access)
{
    /// <summary>
    /// One page of matching versions in namespaces the actor may read. The cursor holds the sort, the
    /// sort value and the id of the last row, so pages stay stable while versions are added.
    /// </summary>
    public async Task<Page<VersionInfo>> SearchAsync(Actor actor, string? filter, string? sort, Paging paging, CancellationToken cancellationToken)
    {
        var order = SearchSort.Parse(sort);
        var query = db.Versions.AsNoTracking()
            .Where(v => v.State == VersionState.Ready && v.Model.DeletedAt == null && v.Model.Namespace.DeletedAt == null);
        if (await access.ReadableNamespaceIdsAsync(actor, cancellationToken) is { } readable)
        {
            query = query.Where(v => readable.Contains(v.Model.NamespaceId));
        }

        if (!string.IsNullOrWhiteSpace(filter))
        {
            query = query.Where(FilterTranslator.ToPredicate(FilterParser.Parse(filter)));
        }

        var after = After(paging, order);
        var ordered = order.Field switch
        {
            SortField.Created => ByCreated(query, order.Descending, after),
            SortField.Version => ByNumber(query, order.Descending, after),
            SortField.Name => ByName(query, order.Descending, after),
            _ => ByMetric(query, order.MetricKey!, order.Descending, after),
        };
        var rows = await ordered.Take(paging.Limit + 1).WithDetails().ToListAsync(cancellationToken);
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

    /// <summary>The sort value (null for a missing metric) and id of the last row of the previous page.</summary>
    private static (string? Value, long Id)? After(Paging paging, SearchSort order)
    {
        if (paging.Parts is not { } parts)
        {
            return null;
        }

        if (parts.Count != 3 || parts[0] != order.ToString())
        {
            throw new RegistryException(ErrorCodes.InvalidCursor, "The cursor belongs to another sort order; start again without a cursor.");
        }

        return (Paging.IsNull(parts[1]) ? null : parts[1], Paging.ParseLong(parts[2]));
    }

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

    /// <summary>By a metric's value; versions without the metric follow all others, in id order, in either direction.</summary>
    private static IQueryable<ModelVersion> ByMetric(IQueryable<ModelVersion> query, string key, bool descending, (string? Value, long Id)? after)
    {
        // (version_id, name) is the key of version_metrics, so this left join keeps one row per version.
        var keyed =
            from v in query
            from m in v.Metrics.Where(m => m.Name == key).DefaultIfEmpty()
            select new { Version = v, Value = (double?)m.Value };
        if (after is { Value: null } missing)
        {
            var id = missing.Id;
            keyed = descending
                ? keyed.Where(x => x.Value == null && x.Version.Id < id)
                : keyed.Where(x => x.Value == null && x.Version.Id > id);
        }
        else if (after is { Value: { } text } present)
        {
            var value = Paging.ParseDouble(text);
            var id = present.Id;
            keyed = descending
                ? keyed.Where(x => x.Value == null || x.Value < value || (x.Value == value && x.Version.Id < id))
                : keyed.Where(x => x.Value == null || x.Value > value || (x.Value == value && x.Version.Id > id));
        }

        var ordered = descending
            ? keyed.OrderBy(x => x.Value == null).ThenByDescending(x => x.Value).ThenByDescending(x => x.Version.Id)
            : keyed.OrderBy(x => x.Value == null).ThenBy(x => x.Value).ThenBy(x => x.Version.Id);
        return ordered.Select(x => x.Version);
    }

    private static DateTime Ticks(string? text)
    {
        var ticks = Paging.ParseLong(text ?? "");
        return ticks >= 0 && ticks <= DateTime.MaxValue.Ticks ? new DateTime(ticks, DateTimeKind.Utc) : throw InvalidCursor();
    }

    private static RegistryException InvalidCursor() =>
        new(ErrorCodes.InvalidCursor, "The cursor is not one this server handed out; start again without a cursor.");
}
