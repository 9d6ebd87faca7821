using System.Linq.Expressions;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Filtering;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Registry;

/// <summary>
/// The bounded probe that keeps searches that match few or no rows fast. A sorted, keyset-paged search walks the index of
/// its sort and tests every row until a page is full: quick when matches are dense, a walk of every model or version
/// when they are sparse or absent (the databases have no statistics that would tell them in advance; SQLite has none at
/// all). So a search first asks, through an index that reaches the candidates by themselves, whether at most
/// <see cref="SearchOptions.SparseBound"/> rows match. If so, the page is sorted from that id list (a few primary-key reads
/// and a sort of at most that many rows); if not (or if no index can answer), matches are dense enough for the walk to fill a
/// page quickly, and the search walks as before. Both paths sort the same rows in the same order, so a cursor from one
/// continues in the other. The model dashboard (<see cref="ModelCatalog"/>) and the API's version search
/// (<see cref="SearchService"/>) share it; docs/benchmarks.md (Web UI) has the query plans and the numbers.
/// </summary>
public sealed class SparseMatches(RegistryDbContext db, IOptions<SearchOptions> options)
{
    /// <summary>The most matches a search sorts from their ids (<see cref="SearchOptions.SparseBound"/>).</summary>
    public int Bound => options.Value.SparseBound;

    /// <summary>Conditions tried as the probe's index, at most (a probe of a broad condition reads SparseBound + 1 index rows).</summary>
    private const int MaxProbes = 3;

    /// <summary>Words of a plain search tried, at most (the longest first).</summary>
    private const int MaxWordProbes = 2;

    /// <summary>
    /// Every version that satisfies <paramref name="filter"/> and <paramref name="scope"/>, when they are at most
    /// <see cref="SearchOptions.SparseBound"/> and a top-level condition of the filter can be looked up in an index (a metric
    /// or tag compared with a value, the model's name or namespace, the creation time); null when matches may be more, or no
    /// condition can be looked up. A probe first reads the ids of at most SparseBound + 1 versions through one such condition
    /// (from its index alone, which is the only restriction the database sees, so it drives the plan); a condition that
    /// reaches more is inconclusive and the next one is tried. Then the whole filter and scope are tested on just those
    /// versions, read by primary key, in the projection rather than as a restriction the planner could choose to walk by.
    /// </summary>
    public async Task<List<(long VersionId, long ModelId)>?> VersionsAsync(
        FilterExpression filter, Expression<Func<ModelVersion, bool>> scope, CancellationToken cancellationToken)
    {
        var bound = options.Value.SparseBound;
        var probes = FilterTranslator.Conjuncts(filter).OfType<ComparisonExpression>()
            .Select(c => (Rank: Rank(c), Ids: Reach(c)))
            .Where(p => p.Ids is not null)
            .OrderBy(p => p.Rank)
            .Take(MaxProbes);
        foreach (var (_, reach) in probes)
        {
            var ids = await reach!.Take(bound + 1).ToListAsync(cancellationToken);
            if (ids.Count > bound)
            {
                continue;
            }

            if (ids.Count == 0)
            {
                return [];
            }

            var rows = await db.Versions.AsNoTracking().Where(v => ids.Contains(v.Id))
                .Select(Project(Both(scope, FilterTranslator.ToPredicate(filter))))
                .ToListAsync(cancellationToken);
            return rows.Where(r => r.Matches).Select(r => (r.VersionId, r.ModelId)).ToList();
        }

        return null;
    }

    /// <summary>
    /// The ids of every model that may contain all <paramref name="words"/> (in its name, namespace, description or a tag,
    /// as the dashboard matches them), when one of the words, looked for by itself, occurs in at most <see cref="SearchOptions.SparseBound"/>
    /// names, namespaces' models, descriptions and models' tags; null otherwise. No index can find a word inside a text,
    /// so each look is a scan, but an unordered one that stops at SparseBound + 1 hits: cheap when the word is common, and when
    /// it is rare, a sequential read of the names (an index that covers them), the descriptions and the tags instead of
    /// a walk of every model in the sort's order testing each. The result is a superset: the caller still applies the
    /// words (and everything else) to these models.
    /// </summary>
    public async Task<List<long>?> ModelsWithWordsAsync(IReadOnlyList<string> words, CancellationToken cancellationToken)
    {
        foreach (var word in words.OrderByDescending(w => w.Length).Take(MaxWordProbes))
        {
            if (await ModelsWithWordAsync(word, cancellationToken) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    private async Task<List<long>?> ModelsWithWordAsync(string word, CancellationToken cancellationToken)
    {
        var bound = options.Value.SparseBound;
        var found = new HashSet<long>();
        async Task<bool> AddAsync(IQueryable<long> ids)
        {
            var some = await ids.Take(bound + 1).ToListAsync(cancellationToken);
            found.UnionWith(some);
            return some.Count <= bound;
        }

        var namespaces = await db.Namespaces.AsNoTracking().Where(n => n.Name.Contains(word)).Select(n => n.Id).ToListAsync(cancellationToken);
        var few = await AddAsync(db.Models.AsNoTracking().Where(m => m.Name.Contains(word)).Select(m => m.Id))
            && (namespaces.Count == 0 || await AddAsync(db.Models.AsNoTracking().Where(m => namespaces.Contains(m.NamespaceId)).Select(m => m.Id)))
            && await AddAsync(db.Models.AsNoTracking().Where(m => m.Description != null && m.Description.ToLower().Contains(word)).Select(m => m.Id))
            && await AddAsync(db.Set<ModelTag>().AsNoTracking().Where(t => t.Key.ToLower().Contains(word) || t.Value.ToLower().Contains(word)).Select(t => t.ModelId));
        return few && found.Count <= bound ? found.ToList() : null;
    }

    /// <summary>
    /// The ids of the versions a condition reaches through an index of its own, before anything else is tested (a superset
    /// of the versions that satisfy it); null for a condition no index can look up by itself.
    /// </summary>
    private IQueryable<long>? Reach(ComparisonExpression c) => c.Field.Kind switch
    {
        // (name, value, version_id), which covers the ids: one key, a value or a range of values.
        FilterFieldKind.Metric when c.Operator is FilterOperator.Equal or FilterOperator.In or FilterOperator.LessThan or FilterOperator.LessThanOrEqual
            or FilterOperator.GreaterThan or FilterOperator.GreaterThanOrEqual or FilterOperator.IsNotNull =>
            db.VersionMetrics.AsNoTracking()
                .Where(FilterTranslator.EntryPredicate<VersionMetric>(nameof(VersionMetric.Name), nameof(VersionMetric.Value), c))
                .Select(x => x.VersionId),

        // (key, value): one key with given values, or any value.
        FilterFieldKind.Tag when c.Operator is FilterOperator.Equal or FilterOperator.In or FilterOperator.IsNotNull =>
            db.Set<VersionTag>().AsNoTracking()
                .Where(FilterTranslator.EntryPredicate<VersionTag>(nameof(VersionTag.Key), nameof(VersionTag.Value), c))
                .Select(t => t.VersionId),

        // The models' (name, id) index, then each model's versions by (model_id, …).
        FilterFieldKind.Name when c.Operator is FilterOperator.Equal or FilterOperator.In =>
            db.Models.AsNoTracking().Where(FilterTranslator.ColumnPredicate<RegisteredModel>(nameof(RegisteredModel.Name), c, nullable: false))
                .SelectMany(m => m.Versions).Select(v => v.Id),

        // The namespaces' unique name, its models by (namespace_id, name), their versions.
        FilterFieldKind.Namespace when c.Operator is FilterOperator.Equal or FilterOperator.In =>
            db.Namespaces.AsNoTracking().Where(FilterTranslator.ColumnPredicate<RegistryNamespace>(nameof(RegistryNamespace.Name), c, nullable: false))
                .SelectMany(n => n.Models).SelectMany(m => m.Versions).Select(v => v.Id),

        // (state, created_at): a time or a range of times of ready versions.
        FilterFieldKind.Created when c.Operator is FilterOperator.Equal or FilterOperator.LessThan or FilterOperator.LessThanOrEqual
            or FilterOperator.GreaterThan or FilterOperator.GreaterThanOrEqual =>
            db.Versions.AsNoTracking().Where(v => v.State == VersionState.Ready)
                .Where(FilterTranslator.ColumnPredicate<ModelVersion>(nameof(ModelVersion.CreatedAt), c, nullable: false))
                .Select(v => v.Id),

        _ => null,
    };

    /// <summary>Which conditions to try first: those that name exact values (few rows each), then ranges.</summary>
    private static int Rank(ComparisonExpression c) => c.Field.Kind switch
    {
        FilterFieldKind.Name or FilterFieldKind.Namespace => 0,
        _ when c.Operator is FilterOperator.Equal or FilterOperator.In => 1,
        FilterFieldKind.Created => 3,
        _ => 2,
    };

    private static Expression<Func<ModelVersion, bool>> Both(Expression<Func<ModelVersion, bool>> first, Expression<Func<ModelVersion, bool>> second)
    {
        var body = new Rebind(second.Parameters[0], first.Parameters[0]).Visit(second.Body);
        return Expression.Lambda<Func<ModelVersion, bool>>(Expression.AndAlso(first.Body, body), first.Parameters[0]);
    }

    /// <summary><c>v =&gt; new Probed(v.Id, v.ModelId, matches(v))</c>: the test runs on each row read, not as a restriction.</summary>
    private static Expression<Func<ModelVersion, Probed>> Project(Expression<Func<ModelVersion, bool>> matches)
    {
        var v = matches.Parameters[0];
        var constructor = typeof(Probed).GetConstructor([typeof(long), typeof(long), typeof(bool)])!;
        return Expression.Lambda<Func<ModelVersion, Probed>>(
            Expression.New(constructor, Expression.Property(v, nameof(ModelVersion.Id)), Expression.Property(v, nameof(ModelVersion.ModelId)), matches.Body), v);
    }

    private sealed record Probed(long VersionId, long ModelId, bool Matches);

    private sealed class Rebind(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
