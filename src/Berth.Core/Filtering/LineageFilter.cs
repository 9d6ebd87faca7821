using System.Linq.Expressions;
using Berth.Contracts.Naming;
using Berth.Core.Data.Entities;

namespace Berth.Core.Filtering;

/// <summary>
/// The lineage fields of the filter language, for versions (search and stage gates): <c>lineage.run</c> (the run the
/// version came from), <c>lineage.gitCommit</c>, <c>lineage.dataset</c> (some dataset's URI or digest) and
/// <c>lineage.parent</c> (some parent version, named <c>ns/model</c> for any version of a model, or
/// <c>ns/model:number</c>, <c>ns/model:1.4.0</c>, <c>ns/model@sha256:…</c>). One place for their names, operators, SQL
/// translation and in-memory evaluation, so that the parser, <see cref="FilterTranslator"/> and
/// <see cref="FilterEvaluator"/> each only hand them over.
/// </summary>
internal static class LineageFilter
{
    /// <summary>The prefix the lexer reads as part of a field name (<c>lineage.gitCommit</c> is one word).</summary>
    public const string Prefix = "lineage";

    public const string Fields = "lineage.run, lineage.gitCommit, lineage.dataset, lineage.parent";

    public static bool IsLineage(FilterFieldKind kind) =>
        kind is FilterFieldKind.LineageRun or FilterFieldKind.LineageGitCommit or FilterFieldKind.LineageDataset or FilterFieldKind.LineageParent;

    /// <summary>The field a word names (<c>lineage.gitcommit</c> in any case), or null.</summary>
    public static FilterFieldKind? Field(string word) => word.ToLowerInvariant() switch
    {
        "lineage.run" => FilterFieldKind.LineageRun,
        "lineage.gitcommit" => FilterFieldKind.LineageGitCommit,
        "lineage.dataset" => FilterFieldKind.LineageDataset,
        "lineage.parent" => FilterFieldKind.LineageParent,
        _ => null,
    };

    public static string Name(FilterFieldKind kind) => kind switch
    {
        FilterFieldKind.LineageRun => "lineage.run",
        FilterFieldKind.LineageGitCommit => "lineage.gitCommit",
        FilterFieldKind.LineageDataset => "lineage.dataset",
        _ => "lineage.parent",
    };

    /// <summary>
    /// What a parent reference value must be: a namespace and a model, with a number, semantic version or digest (or none,
    /// for any version of the model). Aliases, stages and <c>latest</c> move, so they are refused; null when it is fine.
    /// </summary>
    public static string? CheckParent(string text, out ModelReference? reference)
    {
        reference = null;
        if (!ModelReference.TryParse(text, out var parsed, out var error))
        {
            return $"lineage.parent is compared with a version reference such as 'acme/base:3': {error}";
        }

        if (parsed.Namespace is null)
        {
            return $"lineage.parent needs the namespace of the parent: write '<namespace>/{parsed.Model}{(parsed.HasSelector ? parsed.Selector.ToReferenceSuffix() : "")}'";
        }

        if (parsed.HasSelector && parsed.Selector.Kind is SelectorKind.Name or SelectorKind.Latest)
        {
            return $"lineage.parent names a version by number, semantic version or digest ('{parsed.Namespace}/{parsed.Model}:3'), or a model for any of its versions; '{parsed.Selector.Text}' is an alias, a stage or 'latest', which move";
        }

        reference = parsed;
        return null;
    }

    /// <summary>Git commits are stored in lower case: compare exact values, and patterns, the same way.</summary>
    public static ComparisonExpression Normalise(ComparisonExpression c) =>
        c.Field.Kind == FilterFieldKind.LineageGitCommit
            ? c with { Values = c.Values.Select(v => v is StringValue s ? new StringValue(s.Value.ToLowerInvariant()) : v).ToList() }
            : c;

    /// <summary>The SQL predicate of a lineage condition over a version.</summary>
    public static Expression Translate(ComparisonExpression c, ParameterExpression v, Func<Expression, ComparisonExpression, bool, Expression> scalar,
        Func<Expression, FilterOperator, IReadOnlyList<FilterValue>, Expression> test, Func<string, Expression> parameter)
    {
        c = Normalise(c);
        switch (c.Field.Kind)
        {
            case FilterFieldKind.LineageRun:
                return scalar(Expression.Property(v, nameof(ModelVersion.RunId)), c, true);
            case FilterFieldKind.LineageGitCommit:
                return scalar(Expression.Property(v, nameof(ModelVersion.GitCommit)), c, true);
            case FilterFieldKind.LineageDataset:
            {
                // Some dataset matches (by URI, or for = and in by digest too); negated operators: none does.
                var d = Expression.Parameter(typeof(VersionDataset), "d");
                var datasets = Expression.Property(v, nameof(ModelVersion.Datasets));
                if (c.Operator is FilterOperator.IsNull or FilterOperator.IsNotNull)
                {
                    var any = Any<VersionDataset>(datasets, null);
                    return c.Operator == FilterOperator.IsNull ? Expression.Not(any) : any;
                }

                var positive = FilterOperators.Positive(c.Operator);
                Expression match = test(Expression.Property(d, nameof(VersionDataset.Uri)), positive, c.Values);
                if (positive is FilterOperator.Equal or FilterOperator.In)
                {
                    var digest = Expression.Property(d, nameof(VersionDataset.Digest));
                    match = Expression.OrElse(match, Expression.AndAlso(Expression.NotEqual(digest, Expression.Constant(null, typeof(string))), test(digest, positive, c.Values)));
                }

                var some = Any<VersionDataset>(datasets, Expression.Lambda(match, d));
                return FilterOperators.IsNegated(c.Operator) ? Expression.Not(some) : some;
            }

            default:
            {
                // Some parent is one of the versions named; negated operators: none is.
                var p = Expression.Parameter(typeof(VersionParent), "p");
                var parents = Expression.Property(v, nameof(ModelVersion.Parents));
                if (c.Operator is FilterOperator.IsNull or FilterOperator.IsNotNull)
                {
                    var any = Any<VersionParent>(parents, null);
                    return c.Operator == FilterOperator.IsNull ? Expression.Not(any) : any;
                }

                var parent = Expression.Property(p, nameof(VersionParent.Parent));
                var match = c.Values.Select(value => Parent(parent, Reference(value), parameter)).Aggregate(Expression.OrElse);
                var some = Any<VersionParent>(parents, Expression.Lambda(match, p));
                return FilterOperators.IsNegated(c.Operator) ? Expression.Not(some) : some;
            }
        }
    }

    /// <summary>The parent version is the one <paramref name="reference"/> names (any version of its model without a selector).</summary>
    private static Expression Parent(Expression parent, ModelReference reference, Func<string, Expression> parameter)
    {
        var model = Expression.Property(parent, nameof(ModelVersion.Model));
        Expression match = Expression.AndAlso(
            Expression.Equal(Expression.Property(model, nameof(RegisteredModel.Name)), parameter(reference.Model)),
            Expression.Equal(Expression.Property(Expression.Property(model, nameof(RegisteredModel.Namespace)), nameof(RegistryNamespace.Name)), parameter(reference.Namespace!)));
        if (!reference.HasSelector)
        {
            return match;
        }

        var selector = reference.Selector;
        var version = selector.Kind switch
        {
            SelectorKind.Number => Expression.Equal(Expression.Property(parent, nameof(ModelVersion.Number)), Captured(selector.Number)),
            SelectorKind.SemanticVersion => Expression.Equal(Expression.Property(parent, nameof(ModelVersion.SemVer)), parameter(NormalisedSemVer(selector.Text))),
            _ => Expression.Equal(Expression.Property(parent, nameof(ModelVersion.ManifestDigest)), parameter(selector.Text)),
        };
        return Expression.AndAlso(match, version);
    }

    /// <summary>Evaluates a lineage condition against a version in memory (gates); the actual value for the explanation.</summary>
    public static (bool Passed, string Actual) Evaluate(ComparisonExpression c, VersionFacts facts, Func<FilterOperator, string, IReadOnlyList<FilterValue>, bool> compare)
    {
        c = Normalise(c);
        var op = c.Operator;
        switch (c.Field.Kind)
        {
            case FilterFieldKind.LineageRun:
            case FilterFieldKind.LineageGitCommit:
            {
                var value = c.Field.Kind == FilterFieldKind.LineageRun ? facts.RunId : facts.GitCommit;
                var actual = value is null ? "missing" : new StringValue(value).ToString();
                return op switch
                {
                    FilterOperator.IsNull => (value is null, actual),
                    FilterOperator.IsNotNull => (value is not null, actual),
                    _ => (value is not null && compare(op, value, c.Values), actual),
                };
            }

            case FilterFieldKind.LineageDataset:
            {
                var datasets = facts.Datasets ?? [];
                var actual = datasets.Count == 0 ? "no dataset" : "[" + string.Join(", ", datasets.Select(d => d.Uri)) + "]";
                var positive = FilterOperators.Positive(op);
                bool Matches(DatasetFact d) => compare(positive, d.Uri, c.Values)
                    || (positive is FilterOperator.Equal or FilterOperator.In && d.Digest is { } digest && compare(positive, digest, c.Values));
                return op switch
                {
                    FilterOperator.IsNull => (datasets.Count == 0, actual),
                    FilterOperator.IsNotNull => (datasets.Count > 0, actual),
                    _ when FilterOperators.IsNegated(op) => (!datasets.Any(Matches), actual),
                    _ => (datasets.Any(Matches), actual),
                };
            }

            default:
            {
                var parents = facts.Parents ?? [];
                var actual = parents.Count == 0 ? "no parent" : "[" + string.Join(", ", parents.Select(p => $"{p.Namespace}/{p.Model}:{p.Number}")) + "]";
                bool Matches(ParentFact p) => c.Values.Any(value => Is(p, Reference(value)));
                return op switch
                {
                    FilterOperator.IsNull => (parents.Count == 0, actual),
                    FilterOperator.IsNotNull => (parents.Count > 0, actual),
                    _ when FilterOperators.IsNegated(op) => (!parents.Any(Matches), actual),
                    _ => (parents.Any(Matches), actual),
                };
            }
        }
    }

    private static bool Is(ParentFact parent, ModelReference reference)
    {
        if (parent.Namespace != reference.Namespace || parent.Model != reference.Model)
        {
            return false;
        }

        if (!reference.HasSelector)
        {
            return true;
        }

        var selector = reference.Selector;
        return selector.Kind switch
        {
            SelectorKind.Number => parent.Number == selector.Number,
            SelectorKind.SemanticVersion => parent.SemVer == NormalisedSemVer(selector.Text),
            _ => parent.Digest == selector.Text,
        };
    }

    private static ModelReference Reference(FilterValue value) =>
        CheckParent(((StringValue)value).Value, out var reference) is null ? reference! : throw new ArgumentException("The parser checked lineage.parent values.", nameof(value));

    private static string NormalisedSemVer(string text) => SemanticVersion.TryParse(text, out var version) ? version.ToString() : text;

    private static MethodCallExpression Any<TEntry>(Expression source, LambdaExpression? predicate) =>
        predicate is null
            ? Expression.Call(typeof(Enumerable), nameof(Enumerable.Any), [typeof(TEntry)], source)
            : Expression.Call(typeof(Enumerable), nameof(Enumerable.Any), [typeof(TEntry)], source, predicate);

    /// <summary>An int as a query parameter (a captured member, not an inlined constant), as FilterTranslator does.</summary>
    private static MemberExpression Captured(int value) => Expression.Property(Expression.Constant(new Box(value)), nameof(Box.Value));

    private sealed class Box(int value)
    {
        public int Value { get; } = value;
    }
}

/// <summary>A dataset of a version's lineage, for gates.</summary>
public sealed record DatasetFact(string Uri, string? Digest);

/// <summary>A parent of a version, for gates.</summary>
public sealed record ParentFact(string Namespace, string Model, int Number, string? SemVer, string Digest);
