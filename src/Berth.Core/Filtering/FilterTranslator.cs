using System.Linq.Expressions;
using System.Reflection;
using Berth.Contracts.Naming;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Filtering;

/// <summary>
/// Turns a parsed filter into a predicate over <see cref="ModelVersion"/> that EF Core translates to SQL
/// (<c>db.Versions.Where(predicate)</c>); nothing is evaluated on the client.
/// </summary>
/// <remarks>
/// <para>A condition on a value the version does not have is false: <c>tags.team != 'risk'</c> matches
/// versions that have a <c>team</c> tag with another value, <c>stage != 'production'</c> versions that
/// have another stage. Only <c>is null</c> matches a missing value. <c>not</c> is plain logical
/// negation, so <c>not tags.team = 'risk'</c> also matches versions without the tag.</para>
/// <para><c>alias</c> is a set: <c>alias = 'champion'</c> and <c>alias like 'c%'</c> ask whether some
/// alias matches; the negated forms (<c>!=</c>, <c>not like</c>, <c>not ilike</c>, <c>not in</c>) ask
/// whether no alias matches; <c>alias is null</c> means the version has no alias.</para>
/// <para><c>like</c> patterns use <c>%</c> and <c>_</c>, with <c>\</c> as escape character (write
/// <c>'a\\_b'</c> in the filter to match a literal underscore; a <c>\</c> at the end stands for itself). <c>like</c> is
/// case-sensitive; <c>ilike</c> lowers the ASCII letters of both sides, as gates do in memory (<see cref="LikePattern"/>).</para>
/// <para>Values reach the database as parameters, so filters that differ only in their values share one
/// cached query plan.</para>
/// </remarks>
public static class FilterTranslator
{
    private const string LikeEscape = "\\";

    private static readonly MethodInfo LikeMethod = typeof(DbFunctionsExtensions).GetMethod(
        nameof(DbFunctionsExtensions.Like), [typeof(DbFunctions), typeof(string), typeof(string), typeof(string)])!;

    private static readonly MethodInfo ToLowerMethod = typeof(string).GetMethod(nameof(string.ToLower), Type.EmptyTypes)!;

    private static readonly Expression Functions = Expression.Property(null, typeof(EF), nameof(EF.Functions));

    public static Expression<Func<ModelVersion, bool>> ToPredicate(FilterExpression filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var version = Expression.Parameter(typeof(ModelVersion), "v");
        return Expression.Lambda<Func<ModelVersion, bool>>(Translate(filter, version), version);
    }

    /// <summary>The conditions that must all hold for the filter to match: the operands of its top-level <c>and</c>s.</summary>
    public static IReadOnlyList<FilterExpression> Conjuncts(FilterExpression filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Flatten<AndExpression>(filter, a => (a.Left, a.Right));
    }

    /// <summary>
    /// The rows of a keyed collection (a version's metrics or tags) that satisfy a condition on it, e.g.
    /// <c>e =&gt; e.Name == "auc" &amp;&amp; e.Value &gt; 0.9</c> for <c>metrics.auc &gt; 0.9</c> (<c>is not null</c>: every row of the
    /// key). A version satisfies the condition exactly when one of its rows does; the negative forms (<c>is null</c>) have no
    /// such rows, so they are refused here.
    /// </summary>
    public static Expression<Func<TEntry, bool>> EntryPredicate<TEntry>(string keyProperty, string valueProperty, ComparisonExpression c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.Operator == FilterOperator.IsNull)
        {
            throw new ArgumentException("'is null' holds for versions without a row, not for rows.", nameof(c));
        }

        var entry = Expression.Parameter(typeof(TEntry), "e");
        return Expression.Lambda<Func<TEntry, bool>>(EntryTest(entry, keyProperty, valueProperty, c), entry);
    }

    /// <summary>A condition on one column of an entity, as the filter compares it (<c>m =&gt; m.Name == "fraud"</c>).</summary>
    public static Expression<Func<T, bool>> ColumnPredicate<T>(string property, ComparisonExpression c, bool nullable)
    {
        ArgumentNullException.ThrowIfNull(c);
        var row = Expression.Parameter(typeof(T), "x");
        return Expression.Lambda<Func<T, bool>>(Scalar(Expression.Property(row, property), c, nullable), row);
    }

    /// <summary>
    /// A predicate over <see cref="Run"/> for a filter parsed with <see cref="FilterScope.Runs"/>: <c>metrics.k</c> is the
    /// series' last value (a NaN last value matches nothing), <c>params.k</c> compares as a number against a number
    /// (params whose text is not a number do not match) and as text against a string, <c>created</c> is the start.
    /// </summary>
    public static Expression<Func<Run, bool>> ToRunPredicate(FilterExpression filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var run = Expression.Parameter(typeof(Run), "r");
        return Expression.Lambda<Func<Run, bool>>(Translate(filter, run, RunComparison), run);
    }

    private static Expression Translate(FilterExpression node, ParameterExpression v) => Translate(node, v, Comparison);

    private static Expression Translate(FilterExpression node, ParameterExpression v, Func<ComparisonExpression, ParameterExpression, Expression> comparison) => node switch
    {
        AndExpression => Balanced(Flatten<AndExpression>(node, a => (a.Left, a.Right)).Select(n => Translate(n, v, comparison)).ToList(), Expression.AndAlso),
        OrExpression => Balanced(Flatten<OrExpression>(node, o => (o.Left, o.Right)).Select(n => Translate(n, v, comparison)).ToList(), Expression.OrElse),
        NotExpression not => Expression.Not(Translate(not.Operand, v, comparison)),
        ComparisonExpression c => comparison(c, v),
        _ => throw new ArgumentException($"Unknown filter node {node.GetType().Name}.", nameof(node)),
    };

    private static Expression RunComparison(ComparisonExpression c, ParameterExpression r) => c.Field.Kind switch
    {
        FilterFieldKind.Name => Scalar(Expression.Property(r, nameof(Run.Name)), c, nullable: true),
        FilterFieldKind.Status => Status(Expression.Property(r, nameof(Run.Status)), c),
        FilterFieldKind.Created => Scalar(Expression.Property(r, nameof(Run.StartedAt)), c, nullable: false),
        FilterFieldKind.Metric => KeyedNumber<RunMetric>(r, nameof(Run.Metrics), nameof(RunMetric.Key), nameof(RunMetric.Last), c),
        FilterFieldKind.Param when c.Values.Count > 0 && c.Values[0] is NumberValue => KeyedNumber<RunParam>(r, nameof(Run.Params), nameof(RunParam.Name), nameof(RunParam.Number), c),
        FilterFieldKind.Param => Keyed<RunParam>(r, nameof(Run.Params), nameof(RunParam.Name), nameof(RunParam.Value), c),
        FilterFieldKind.Tag => Keyed<RunTag>(r, nameof(Run.Tags), nameof(RunTag.Key), nameof(RunTag.Value), c),
        _ => throw new ArgumentException($"Unknown field {c.Field}.", nameof(c)),
    };

    /// <summary>A run's status, stored through a converter: compared as the enum, with =, != and [not] in.</summary>
    private static Expression Status(Expression column, ComparisonExpression c)
    {
        var statuses = c.Values.Select(v => Enum.TryParse<RunStatus>(Text(v), ignoreCase: true, out var s) && Text(v) == s.ToString().ToLowerInvariant()
            ? s
            : throw new Errors.RegistryException(Contracts.Errors.ErrorCodes.InvalidFilter, $"Unknown status {v}; a run's status is 'running', 'finished', 'failed', 'killed' or 'crashed'.")).ToList();
        Expression AnyOf() => statuses.Select(s => (Expression)Expression.Equal(column, Parameter(s))).Aggregate(Expression.OrElse);
        return c.Operator switch
        {
            FilterOperator.Equal or FilterOperator.In => AnyOf(),
            FilterOperator.NotEqual or FilterOperator.NotIn => Expression.Not(AnyOf()),
            _ => throw new Errors.RegistryException(Contracts.Errors.ErrorCodes.InvalidFilter, $"status is compared with =, != or in, not '{FilterOperators.Symbol(c.Operator)}'."),
        };
    }

    /// <summary>A keyed number that may be missing (null): <c>r.Metrics.Any(m => m.Key == key &amp;&amp; m.Last != null &amp;&amp; test((double)m.Last))</c>.</summary>
    private static Expression KeyedNumber<TEntry>(ParameterExpression v, string collection, string keyProperty, string valueProperty, ComparisonExpression c)
    {
        var entry = Expression.Parameter(typeof(TEntry), "e");
        var keyMatches = Expression.Equal(Expression.Property(entry, keyProperty), Parameter(c.Field.Key!));
        var entries = Expression.Property(v, collection);
        if (c.Operator is FilterOperator.IsNull or FilterOperator.IsNotNull)
        {
            var any = Any<TEntry>(entries, Expression.Lambda(keyMatches, entry));
            return c.Operator == FilterOperator.IsNull ? Expression.Not(any) : any;
        }

        var value = Expression.Property(entry, valueProperty);
        var present = Expression.NotEqual(value, Expression.Constant(null, value.Type));
        var test = Test(Expression.Convert(value, typeof(double)), c.Operator, c.Values);
        return Any<TEntry>(entries, Expression.Lambda(Expression.AndAlso(keyMatches, Expression.AndAlso(present, test)), entry));
    }

    /// <summary>The operands of a chain of the same operator, left to right (a and b and c → [a, b, c]).</summary>
    private static List<FilterExpression> Flatten<T>(FilterExpression node, Func<T, (FilterExpression Left, FilterExpression Right)> parts)
        where T : FilterExpression
    {
        var result = new List<FilterExpression>();
        var pending = new Stack<FilterExpression>();
        pending.Push(node);
        while (pending.TryPop(out var current))
        {
            if (current is T chain)
            {
                var (left, right) = parts(chain);
                pending.Push(right);
                pending.Push(left);
            }
            else
            {
                result.Add(current);
            }
        }

        return result;
    }

    /// <summary>Combines operands as a balanced tree, so long chains stay shallow in the generated SQL.</summary>
    private static Expression Balanced(List<Expression> operands, Func<Expression, Expression, BinaryExpression> combine)
    {
        return Range(0, operands.Count);

        Expression Range(int start, int count) => count == 1
            ? operands[start]
            : combine(Range(start, count / 2), Range(start + (count / 2), count - (count / 2)));
    }

    private static Expression Comparison(ComparisonExpression c, ParameterExpression v)
    {
        var model = Expression.Property(v, nameof(ModelVersion.Model));
        return c.Field.Kind switch
        {
            FilterFieldKind.Name => Scalar(Expression.Property(model, nameof(RegisteredModel.Name)), c, nullable: false),
            FilterFieldKind.Namespace => Scalar(
                Expression.Property(Expression.Property(model, nameof(RegisteredModel.Namespace)), nameof(RegistryNamespace.Name)), c, nullable: false),
            FilterFieldKind.Version => Scalar(Expression.Property(v, nameof(ModelVersion.Number)), c, nullable: false),
            FilterFieldKind.SemVer => Scalar(Expression.Property(v, nameof(ModelVersion.SemVer)), NormaliseSemVer(c), nullable: true),
            FilterFieldKind.Stage => Scalar(Expression.Property(v, nameof(ModelVersion.Stage)), c, nullable: true),
            FilterFieldKind.Created => Scalar(Expression.Property(v, nameof(ModelVersion.CreatedAt)), c, nullable: false),
            FilterFieldKind.Digest => Scalar(Expression.Property(v, nameof(ModelVersion.ManifestDigest)), c, nullable: false),
            FilterFieldKind.Size => Scalar(Expression.Property(v, nameof(ModelVersion.TotalSize)), c, nullable: false),
            FilterFieldKind.Files => Scalar(Expression.Property(v, nameof(ModelVersion.FileCount)), c, nullable: false),
            FilterFieldKind.Alias => Aliases(Expression.Property(v, nameof(ModelVersion.Aliases)), c),
            FilterFieldKind.Metric => Keyed<VersionMetric>(v, nameof(ModelVersion.Metrics), nameof(VersionMetric.Name), nameof(VersionMetric.Value), c),
            FilterFieldKind.Param => Keyed<VersionParam>(v, nameof(ModelVersion.Params), nameof(VersionParam.Name), nameof(VersionParam.Value), c),
            FilterFieldKind.Tag => Keyed<VersionTag>(v, nameof(ModelVersion.Tags), nameof(VersionTag.Key), nameof(VersionTag.Value), c),
            FilterFieldKind.Metadata or FilterFieldKind.Scan => Insight(v, c),
            _ when LineageFilter.IsLineage(c.Field.Kind) => LineageFilter.Translate(c, v, Scalar, Test, text => Parameter(text)),
            _ => throw new ArgumentException($"Unknown field {c.Field}.", nameof(c)),
        };
    }

    /// <summary>
    /// <c>metadata.*</c> and <c>scan.*</c>: a column of the version's insight row (a left join; a version without one has
    /// every such field missing). Numbers compare as doubles, like metrics.
    /// </summary>
    private static Expression Insight(ParameterExpression v, ComparisonExpression c)
    {
        var field = InsightFields.Find(c.Field.Kind, c.Field.Key) ?? throw new ArgumentException($"Unknown field {c.Field}.", nameof(c));
        var column = Expression.Property(Expression.Property(v, nameof(ModelVersion.Insight)), field.Column);
        if (!field.Number || c.Operator is FilterOperator.IsNull or FilterOperator.IsNotNull)
        {
            return Scalar(column, c, nullable: true);
        }

        var present = Expression.NotEqual(column, Expression.Constant(null, column.Type));
        return Expression.AndAlso(present, Test(Expression.Convert(column, typeof(double)), c.Operator, c.Values));
    }

    /// <summary>Semantic versions are stored normalised (1.4.0, not v1.4.0); compare exact values the same way.</summary>
    private static ComparisonExpression NormaliseSemVer(ComparisonExpression c) =>
        c.Operator is FilterOperator.Equal or FilterOperator.NotEqual or FilterOperator.In or FilterOperator.NotIn
            ? c with { Values = c.Values.Select(v => v is StringValue s && SemanticVersion.TryParse(s.Value, out var parsed) ? new StringValue(parsed.ToString()) : v).ToList() }
            : c;

    /// <summary>A column of the version (or its model): a missing value (null) fails every comparison but <c>is null</c>.</summary>
    private static Expression Scalar(Expression column, ComparisonExpression c, bool nullable)
    {
        switch (c.Operator)
        {
            case FilterOperator.IsNull:
                return Expression.Equal(column, Expression.Constant(null, column.Type));
            case FilterOperator.IsNotNull:
                return Expression.NotEqual(column, Expression.Constant(null, column.Type));
        }

        var test = Test(column, c.Operator, c.Values);
        return nullable ? Expression.AndAlso(Expression.NotEqual(column, Expression.Constant(null, column.Type)), test) : test;
    }

    /// <summary>metrics, params, tags: <c>v.Tags.Any(t => t.Key == key &amp;&amp; test(t.Value))</c>.</summary>
    private static Expression Keyed<TEntry>(ParameterExpression v, string collection, string keyProperty, string valueProperty, ComparisonExpression c)
    {
        var entry = Expression.Parameter(typeof(TEntry), "e");
        var entries = Expression.Property(v, collection);
        return c.Operator == FilterOperator.IsNull
            ? Expression.Not(Any<TEntry>(entries, Expression.Lambda(EntryTest(entry, keyProperty, valueProperty, c with { Operator = FilterOperator.IsNotNull }), entry)))
            : Any<TEntry>(entries, Expression.Lambda(EntryTest(entry, keyProperty, valueProperty, c), entry));
    }

    /// <summary>One keyed row satisfies a positive condition: its key is the field's, and its value passes the test.</summary>
    private static Expression EntryTest(ParameterExpression entry, string keyProperty, string valueProperty, ComparisonExpression c)
    {
        var keyMatches = Expression.Equal(Expression.Property(entry, keyProperty), Parameter(c.Field.Key!));
        return c.Operator == FilterOperator.IsNotNull
            ? keyMatches
            : Expression.AndAlso(keyMatches, Test(Expression.Property(entry, valueProperty), c.Operator, c.Values));
    }

    /// <summary>alias: some alias matches; a negated operator means no alias matches the positive form.</summary>
    private static Expression Aliases(Expression aliases, ComparisonExpression c)
    {
        var alias = Expression.Parameter(typeof(ModelAlias), "a");
        switch (c.Operator)
        {
            case FilterOperator.IsNull:
                return Expression.Not(Any<ModelAlias>(aliases, null));
            case FilterOperator.IsNotNull:
                return Any<ModelAlias>(aliases, null);
        }

        var positive = FilterOperators.Positive(c.Operator);
        var any = Any<ModelAlias>(aliases, Expression.Lambda(Test(Expression.Property(alias, nameof(ModelAlias.Name)), positive, c.Values), alias));
        return FilterOperators.IsNegated(c.Operator) ? Expression.Not(any) : any;
    }

    private static MethodCallExpression Any<TEntry>(Expression source, LambdaExpression? predicate) =>
        predicate is null
            ? Expression.Call(typeof(Enumerable), nameof(Enumerable.Any), [typeof(TEntry)], source)
            : Expression.Call(typeof(Enumerable), nameof(Enumerable.Any), [typeof(TEntry)], source, predicate);

    /// <summary>The comparison itself, on a value known to be present.</summary>
    private static Expression Test(Expression value, FilterOperator op, IReadOnlyList<FilterValue> values)
    {
        return op switch
        {
            FilterOperator.Equal => Expression.Equal(value, Single()),
            FilterOperator.NotEqual => Expression.NotEqual(value, Single()),
            FilterOperator.LessThan => Expression.LessThan(value, Single()),
            FilterOperator.LessThanOrEqual => Expression.LessThanOrEqual(value, Single()),
            FilterOperator.GreaterThan => Expression.GreaterThan(value, Single()),
            FilterOperator.GreaterThanOrEqual => Expression.GreaterThanOrEqual(value, Single()),
            FilterOperator.Like => Like(value, Parameter(LikePattern.ForDatabase(Text(values[0])))),
            FilterOperator.ILike => Like(Expression.Call(value, ToLowerMethod), Parameter(LikePattern.ForDatabase(LikePattern.AsciiLower(Text(values[0]))))),
            FilterOperator.In => In(value, values),
            FilterOperator.NotLike or FilterOperator.NotILike or FilterOperator.NotIn => Expression.Not(Test(value, FilterOperators.Positive(op), values)),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, $"'{FilterOperators.Symbol(op)}' is not a value comparison."),
        };

        Expression Single() => Literal(values[0], value.Type);
    }

    private static MethodCallExpression Like(Expression value, Expression pattern) =>
        Expression.Call(LikeMethod, Functions, value, pattern, Expression.Constant(LikeEscape));

    private static MethodCallExpression In(Expression value, IReadOnlyList<FilterValue> values)
    {
        var list = value.Type switch
        {
            var t when t == typeof(int) => Parameter(values.Select(v => checked((int)((NumberValue)v).Value)).Distinct().ToList()),
            var t when t == typeof(long) => Parameter(values.Select(v => checked((long)((NumberValue)v).Value)).Distinct().ToList()),
            var t when t == typeof(double) => Parameter(values.Select(v => ((NumberValue)v).Value).Distinct().ToList()),
            var t when t == typeof(DateTime) => Parameter(values.Select(v => ((TimestampValue)v).Utc).Distinct().ToList()),
            _ => Parameter(values.Select(Text).Distinct(StringComparer.Ordinal).ToList()),
        };
        return Expression.Call(typeof(Enumerable), nameof(Enumerable.Contains), [value.Type], list, value);
    }

    /// <summary>One literal as a parameter of the column's type.</summary>
    private static Expression Literal(FilterValue literal, Type type) => literal switch
    {
        NumberValue n when type == typeof(int) => Parameter(checked((int)n.Value)),
        NumberValue n when type == typeof(long) => Parameter(checked((long)n.Value)),
        NumberValue n when type == typeof(double) => Parameter(n.Value),
        TimestampValue t when type == typeof(DateTime) => Parameter(t.Utc),
        StringValue s when type == typeof(string) => Parameter(s.Value),
        _ => throw new ArgumentException($"A {literal.GetType().Name} cannot be compared with a {type.Name} column.", nameof(literal)),
    };

    private static string Text(FilterValue literal) => literal is StringValue s
        ? s.Value
        : throw new ArgumentException($"Expected a string, got {literal.GetType().Name}.", nameof(literal));

    /// <summary>
    /// Wraps a value so that EF Core sees a member read of a captured object, which it sends as a query
    /// parameter (a bare constant would be inlined into the SQL and defeat the query cache).
    /// </summary>
    private static MemberExpression Parameter<T>(T value) =>
        Expression.Property(Expression.Constant(new Captured<T>(value)), nameof(Captured<T>.Value));

    private sealed class Captured<T>(T value)
    {
        public T Value { get; } = value;
    }
}
