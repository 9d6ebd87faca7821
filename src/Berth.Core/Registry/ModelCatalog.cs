using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Filtering;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>
/// What the models dashboard asks for. <see cref="Text"/> is plain words (each must appear in the model's name,
/// namespace, description or a tag) or an expression of the filter language (<see cref="FilterParser"/>: a model
/// matches when one of its ready versions does). <see cref="Tag"/> is <c>key</c> or <c>key=value</c> of a model tag.
/// <see cref="Sort"/>: <c>updated</c> (default, newest first), <c>name</c>, or <c>metrics.&lt;key&gt;</c> (the value
/// of the latest ready version; a leading <c>-</c> sorts descending, models without it come last).
/// </summary>
public sealed record ModelQuery(string? Text = null, string? Namespace = null, string? Stage = null, string? Tag = null, string? Sort = null);

/// <summary>One row of the dashboard.</summary>
public sealed record ModelSummary(
    string Namespace,
    string Name,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    int VersionCount,
    int? LatestVersion,
    string? LatestSemVer,
    IReadOnlyDictionary<string, int> StageCounts,
    IReadOnlyDictionary<string, int> Aliases,
    DateTimeOffset UpdatedAt,
    string? UpdatedBy,
    double? SortMetric)
{
    public string FullName => $"{Namespace}/{Name}";
}

/// <summary>
/// A page of models. <see cref="AsFilter"/>: the text was read as a filter expression. <see cref="FilterProblem"/>: the
/// text looked like a filter (it has an operator) but did not parse, so it was searched as words; this says why.
/// </summary>
public sealed record ModelSearchResult(Page<ModelSummary> Page, bool AsFilter, string? FilterProblem);

/// <summary>
/// The models dashboard: models the actor may read, found by words or a filter, narrowed by namespace, stage and tag,
/// sorted with keyset pagination (cursor: the sort, its value and the model id of the last row), so every page costs
/// the same at any depth. The details of a page are read for its rows only.
/// </summary>
public sealed class ModelCatalog(RegistryDbContext db, AccessControl access, SparseMatches sparse)
{
    public const int DefaultLimit = 25;

    public async Task<ModelSearchResult> SearchAsync(Actor actor, ModelQuery query, Paging paging, CancellationToken cancellationToken)
    {
        var models = db.Models.AsNoTracking().Where(m => m.DeletedAt == null && m.Namespace.DeletedAt == null);
        if (await access.ReadableNamespaceIdsAsync(actor, cancellationToken) is { } readable)
        {
            models = models.Where(m => readable.Contains(m.NamespaceId));
        }

        if (!string.IsNullOrWhiteSpace(query.Namespace))
        {
            var ns = query.Namespace.Trim();
            models = models.Where(m => m.Namespace.Name == ns);
        }

        if (!string.IsNullOrWhiteSpace(query.Stage))
        {
            var stage = query.Stage.Trim();
            models = models.Where(m => db.Versions.Any(v => v.ModelId == m.Id && v.State == VersionState.Ready && v.Stage == stage));
        }

        if (!string.IsNullOrWhiteSpace(query.Tag))
        {
            var (key, value) = SplitTag(query.Tag.Trim());
            models = value is null
                ? models.Where(m => m.Tags.Any(t => t.Key == key))
                : models.Where(m => m.Tags.Any(t => t.Key == key && t.Value == value));
        }

        var asFilter = false;
        string? problem = null;
        IReadOnlyList<string>? words = null;
        if (!string.IsNullOrWhiteSpace(query.Text))
        {
            var text = query.Text.Trim();
            if (TryParseFilter(text, out var filter, out problem))
            {
                asFilter = true;
                if (await sparse.VersionsAsync(filter!, v => v.State == VersionState.Ready, cancellationToken) is { } few)
                {
                    // Few matches: the page sorts the models of these versions (see SparseMatches).
                    var ids = few.Select(f => f.ModelId).Distinct().ToList();
                    models = models.Where(m => ids.Contains(m.Id));
                }
                else
                {
                    // Many (or no index to tell): a correlated EXISTS, not "id IN (matching model ids)": the page walks the
                    // sort's index and stops after a page of matches instead of first collecting every matching version.
                    var matching = db.Versions.Where(v => v.State == VersionState.Ready).Where(FilterTranslator.ToPredicate(filter!));
                    models = models.Where(m => matching.Any(v => v.ModelId == m.Id));
                }
            }
            else
            {
                words = Words(text);
                foreach (var word in words)
                {
                    models = models.Where(m =>
                        m.Name.Contains(word) ||
                        m.Namespace.Name.Contains(word) ||
                        (m.Description != null && m.Description.ToLower().Contains(word)) ||
                        m.Tags.Any(t => t.Key.ToLower().Contains(word) || t.Value.ToLower().Contains(word)));
                }
            }
        }

        var sort = CatalogSort.Parse(query.Sort);
        var after = paging.AfterSorted(sort.ToString());
        var take = paging.Limit + 1;
        List<(long Id, object? Key)>? keys = null;
        if (words is not null)
        {
            // Plain words cannot be looked up in an index. A common word fills a page within the next SparseBound models in
            // the sort's order: look there first, a walk bounded by that window. Short of a page there, a rare word is looked
            // for once in the names, descriptions and tags (SparseMatches), and the page sorts the models it occurs in.
            if (sort.Field != CatalogSortField.Metric)
            {
                var edge = await EdgeAsync(sort, after, cancellationToken);
                keys = await KeysAsync(edge is { } last ? Within(models, sort, last) : models, sort, after, take, cancellationToken);
                if (edge is not null && keys.Count < take)
                {
                    keys = null;
                }
            }

            if (keys is null && await sparse.ModelsWithWordsAsync(words, cancellationToken) is { } candidates)
            {
                keys = await KeysAsync(models.Where(m => candidates.Contains(m.Id)), sort, after, take, cancellationToken);
            }
        }

        keys ??= await KeysAsync(models, sort, after, take, cancellationToken);
        var page = paging.Page(keys, k => [sort.ToString(), k.Key, k.Id]);
        var details = await DetailsAsync(page.Items.Select(k => k.Id).ToList(), sort.Field == CatalogSortField.Metric ? sort.MetricKey : null, cancellationToken);
        var rows = page.Items.Where(k => details.ContainsKey(k.Id)).Select(k => details[k.Id]).ToList();
        return new ModelSearchResult(new Page<ModelSummary>(rows, page.NextCursor), asFilter, problem);
    }

    /// <summary>The sort keys and ids of the next <paramref name="take"/> models of a query after the cursor.</summary>
    private async Task<List<(long Id, object? Key)>> KeysAsync(IQueryable<RegisteredModel> models, CatalogSort sort, (string? Value, long Id)? after, int take, CancellationToken cancellationToken) =>
        sort.Field switch
        {
            CatalogSortField.Name => (await ByName(models, sort.Descending, after).Select(m => new { m.Id, m.Name }).Take(take).ToListAsync(cancellationToken))
                .Select(r => (r.Id, (object?)r.Name)).ToList(),
            CatalogSortField.Metric => await ByMetricAsync(models, sort.MetricKey!, sort.Descending, after, take, cancellationToken),
            _ => (await ByUpdated(models, sort.Descending, after).Select(m => new { m.Id, m.UpdatedAt }).Take(take).ToListAsync(cancellationToken))
                .Select(r => (r.Id, (object?)r.UpdatedAt)).ToList(),
        };

    /// <summary>
    /// The key of the <see cref="SearchOptions.SparseBound"/>-th model after the cursor in the order of a name or update sort
    /// (any model: the window is a stretch of the sort's index, read from the index alone); null when fewer models follow.
    /// </summary>
    private async Task<(object Key, long Id)?> EdgeAsync(CatalogSort sort, (string? Value, long Id)? after, CancellationToken cancellationToken)
    {
        if (sparse.Bound < 1)
        {
            return null;
        }

        var all = db.Models.AsNoTracking();
        if (sort.Field == CatalogSortField.Name)
        {
            var named = await ByName(all, sort.Descending, after).Skip(sparse.Bound - 1).Select(m => new { m.Id, m.Name }).FirstOrDefaultAsync(cancellationToken);
            return named is null ? null : (named.Name, named.Id);
        }

        var updated = await ByUpdated(all, sort.Descending, after).Skip(sparse.Bound - 1).Select(m => new { m.Id, m.UpdatedAt }).FirstOrDefaultAsync(cancellationToken);
        return updated is null ? null : (updated.UpdatedAt, updated.Id);
    }

    /// <summary>
    /// The models up to and including <paramref name="edge"/> in the sort's order. The first condition bounds the index range
    /// (a walk stops at the edge); the second settles ties.
    /// </summary>
    private static IQueryable<RegisteredModel> Within(IQueryable<RegisteredModel> models, CatalogSort sort, (object Key, long Id) edge)
    {
        var id = edge.Id;
        if (edge.Key is string name)
        {
            return sort.Descending
                ? models.Where(m => string.Compare(m.Name, name) >= 0 && (string.Compare(m.Name, name) > 0 || m.Id >= id))
                : models.Where(m => string.Compare(m.Name, name) <= 0 && (string.Compare(m.Name, name) < 0 || m.Id <= id));
        }

        var at = (DateTime)edge.Key;
        return sort.Descending
            ? models.Where(m => m.UpdatedAt >= at && (m.UpdatedAt > at || m.Id >= id))
            : models.Where(m => m.UpdatedAt <= at && (m.UpdatedAt < at || m.Id <= id));
    }

    /// <summary>Reads the text as a filter when it parses; when it does not but looks like one, says why.</summary>
    private static bool TryParseFilter(string text, out FilterExpression? filter, out string? problem)
    {
        filter = null;
        problem = null;
        try
        {
            filter = FilterParser.Parse(text);
            return true;
        }
        catch (RegistryException e) when (e.Error == ErrorCodes.InvalidFilter)
        {
            if (text.AsSpan().IndexOfAny("=<>()'\"") >= 0 || text.Contains(" like ", StringComparison.OrdinalIgnoreCase) || text.Contains(" is ", StringComparison.OrdinalIgnoreCase))
            {
                problem = e.Message;
            }

            return false;
        }
    }

    /// <summary>Lowercased words, at most 8, each at most 100 characters.</summary>
    internal static IReadOnlyList<string> Words(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(w => (w.Length > 100 ? w[..100] : w).ToLowerInvariant())
            .Distinct(StringComparer.Ordinal)
            .Take(8)
            .ToList();

    private static (string Key, string? Value) SplitTag(string tag)
    {
        var equals = tag.IndexOf('=', StringComparison.Ordinal);
        var key = equals < 0 ? tag : tag[..equals].Trim();
        Fail.If(Names.CheckKey("tag", key), ErrorCodes.InvalidRequest);
        return (key, equals < 0 ? null : tag[(equals + 1)..].Trim());
    }

    private static IQueryable<RegisteredModel> ByUpdated(IQueryable<RegisteredModel> models, bool descending, (string? Value, long Id)? after)
    {
        if (after is { } a)
        {
            var ticks = Paging.ParseLong(a.Value ?? "");
            var at = ticks >= 0 && ticks <= DateTime.MaxValue.Ticks ? new DateTime(ticks, DateTimeKind.Utc) : throw InvalidCursor();
            var id = a.Id;
            models = descending
                ? models.Where(m => m.UpdatedAt < at || (m.UpdatedAt == at && m.Id < id))
                : models.Where(m => m.UpdatedAt > at || (m.UpdatedAt == at && m.Id > id));
        }

        return descending
            ? models.OrderByDescending(m => m.UpdatedAt).ThenByDescending(m => m.Id)
            : models.OrderBy(m => m.UpdatedAt).ThenBy(m => m.Id);
    }

    private static IQueryable<RegisteredModel> ByName(IQueryable<RegisteredModel> models, bool descending, (string? Value, long Id)? after)
    {
        if (after is { } a)
        {
            var name = a.Value ?? throw InvalidCursor();
            var id = a.Id;
            models = descending
                ? models.Where(m => string.Compare(m.Name, name) < 0 || (m.Name == name && m.Id < id))
                : models.Where(m => string.Compare(m.Name, name) > 0 || (m.Name == name && m.Id > id));
        }

        return descending
            ? models.OrderByDescending(m => m.Name).ThenByDescending(m => m.Id)
            : models.OrderBy(m => m.Name).ThenBy(m => m.Id);
    }

    /// <summary>By a metric of each model's latest ready version; models without it follow, in id order.</summary>
    private async Task<List<(long Id, object? Key)>> ByMetricAsync(IQueryable<RegisteredModel> models, string key, bool descending, (string? Value, long Id)? after, int take, CancellationToken cancellationToken)
    {
        var valued = models.Select(m => new
        {
            m.Id,
            Value = db.VersionMetrics
                .Where(x => x.Name == key && x.VersionId == db.Versions
                    .Where(v => v.ModelId == m.Id && v.State == VersionState.Ready)
                    .OrderByDescending(v => v.Number)
                    .Select(v => v.Id)
                    .FirstOrDefault())
                .Select(x => (double?)x.Value)
                .FirstOrDefault(),
        });
        var result = new List<(long Id, object? Key)>();
        if (after is not { Value: null })
        {
            var present = valued.Where(x => x.Value != null);
            if (after is { Value: { } text } a)
            {
                var value = Paging.ParseDouble(text);
                var id = a.Id;
                present = descending
                    ? present.Where(x => x.Value < value || (x.Value == value && x.Id < id))
                    : present.Where(x => x.Value > value || (x.Value == value && x.Id > id));
            }

            var ordered = descending
                ? present.OrderByDescending(x => x.Value).ThenByDescending(x => x.Id)
                : present.OrderBy(x => x.Value).ThenBy(x => x.Id);
            result.AddRange((await ordered.Take(take).ToListAsync(cancellationToken)).Select(x => (x.Id, (object?)x.Value)));
        }

        if (result.Count < take)
        {
            var missing = valued.Where(x => x.Value == null);
            if (after is { Value: null } last)
            {
                var id = last.Id;
                missing = descending ? missing.Where(x => x.Id < id) : missing.Where(x => x.Id > id);
            }

            missing = descending ? missing.OrderByDescending(x => x.Id) : missing.OrderBy(x => x.Id);
            result.AddRange((await missing.Select(x => x.Id).Take(take - result.Count).ToListAsync(cancellationToken)).Select(id => (id, (object?)null)));
        }

        return result;
    }

    /// <summary>Everything a dashboard row shows, for the rows of one page only.</summary>
    private async Task<Dictionary<long, ModelSummary>> DetailsAsync(IReadOnlyList<long> ids, string? metric, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var models = await db.Models.AsNoTracking().Where(m => ids.Contains(m.Id))
            .Select(m => new
            {
                m.Id,
                Namespace = m.Namespace.Name,
                m.Name,
                m.Description,
                m.UpdatedAt,
                UpdatedBy = db.Events.Where(e => e.ModelId == m.Id).OrderByDescending(e => e.Id).Select(e => e.Actor).FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);
        var tags = await db.Set<ModelTag>().AsNoTracking().Where(t => ids.Contains(t.ModelId)).ToListAsync(cancellationToken);
        var ready = db.Versions.AsNoTracking().Where(v => ids.Contains(v.ModelId) && v.State == VersionState.Ready);
        var stats = await ready.GroupBy(v => v.ModelId)
            .Select(g => new { ModelId = g.Key, Count = g.Count(), Latest = g.Max(v => v.Number) })
            .ToDictionaryAsync(s => s.ModelId, cancellationToken);
        var latestNumbers = stats.Values.Select(s => s.Latest).ToList();
        var latest = await ready.Where(v => latestNumbers.Contains(v.Number))
            .Select(v => new { v.Id, v.ModelId, v.Number, v.SemVer })
            .ToListAsync(cancellationToken);
        latest = latest.Where(v => stats.TryGetValue(v.ModelId, out var s) && s.Latest == v.Number).ToList();
        var stages = await ready.Where(v => v.Stage != null)
            .GroupBy(v => new { v.ModelId, v.Stage })
            .Select(g => new { g.Key.ModelId, g.Key.Stage, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var aliases = await db.Aliases.AsNoTracking().Where(a => ids.Contains(a.ModelId))
            .Select(a => new { a.ModelId, a.Name, a.Version.Number })
            .ToListAsync(cancellationToken);
        var metrics = new Dictionary<long, double>();
        if (metric is not null)
        {
            var latestIds = latest.Select(v => v.Id).ToList();
            var values = await db.VersionMetrics.AsNoTracking().Where(x => x.Name == metric && latestIds.Contains(x.VersionId))
                .Select(x => new { x.VersionId, x.Value }).ToListAsync(cancellationToken);
            foreach (var v in latest)
            {
                if (values.FirstOrDefault(x => x.VersionId == v.Id) is { } found)
                {
                    metrics[v.ModelId] = found.Value;
                }
            }
        }

        return models.ToDictionary(m => m.Id, m =>
        {
            stats.TryGetValue(m.Id, out var s);
            var head = latest.FirstOrDefault(v => v.ModelId == m.Id);
            return new ModelSummary(
                m.Namespace,
                m.Name,
                m.Description,
                tags.Where(t => t.ModelId == m.Id).OrderBy(t => t.Key, StringComparer.Ordinal).ToDictionary(t => t.Key, t => t.Value),
                s?.Count ?? 0,
                s?.Latest,
                head?.SemVer,
                stages.Where(x => x.ModelId == m.Id).OrderBy(x => x.Stage, StringComparer.Ordinal).ToDictionary(x => x.Stage!, x => x.Count),
                aliases.Where(a => a.ModelId == m.Id).OrderBy(a => a.Name, StringComparer.Ordinal).ToDictionary(a => a.Name, a => a.Number),
                DtoMapper.Utc(m.UpdatedAt),
                m.UpdatedBy,
                metrics.TryGetValue(m.Id, out var value) ? value : null);
        });
    }

    /// <summary>
    /// The metric names of a model's newest <paramref name="window"/> ready versions, most common first (then by name):
    /// the columns a versions table offers.
    /// </summary>
    public async Task<IReadOnlyList<string>> MetricNamesAsync(long modelId, int window, CancellationToken cancellationToken)
    {
        var recent = db.Versions.AsNoTracking().Where(v => v.ModelId == modelId && v.State == VersionState.Ready)
            .OrderByDescending(v => v.Number).Take(window).Select(v => v.Id);
        var counts = await db.VersionMetrics.AsNoTracking().Where(x => recent.Contains(x.VersionId))
            .GroupBy(x => x.Name).Select(g => new { Name = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return counts.OrderByDescending(c => c.Count).ThenBy(c => c.Name, StringComparer.Ordinal).Select(c => c.Name).ToList();
    }

    /// <summary>The values of some metrics across a model's newest <paramref name="limit"/> ready versions, oldest first (a chart's points).</summary>
    public async Task<IReadOnlyList<(int Version, string Metric, double Value)>> MetricSeriesAsync(long modelId, IReadOnlyList<string> metrics, int limit, CancellationToken cancellationToken)
    {
        if (metrics.Count == 0)
        {
            return [];
        }

        var names = metrics.ToList();
        var recent = db.Versions.AsNoTracking().Where(v => v.ModelId == modelId && v.State == VersionState.Ready)
            .OrderByDescending(v => v.Number).Take(Math.Clamp(limit, 1, 1000));
        var rows = await recent
            .Join(db.VersionMetrics.Where(x => names.Contains(x.Name)), v => v.Id, x => x.VersionId, (v, x) => new { v.Number, x.Name, x.Value })
            .ToListAsync(cancellationToken);
        return rows.OrderBy(r => r.Number).Select(r => (r.Number, r.Name, r.Value)).ToList();
    }

    private static RegistryException InvalidCursor() =>
        new(ErrorCodes.InvalidCursor, "The cursor is not one this server handed out; start again without a cursor.");
}
