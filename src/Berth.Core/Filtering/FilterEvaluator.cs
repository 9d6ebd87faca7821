using System.Globalization;
using Berth.Contracts.Naming;

namespace Berth.Core.Filtering;

/// <summary>
/// Evaluates a filter expression against one version in memory, with the same meaning as
/// <see cref="FilterTranslator"/> gives it in SQL (a condition on a missing value is false; <c>alias</c>
/// is a set), and explains the outcome: which conditions failed and what the version actually has.
/// Used for stage gates.
/// </summary>
public static class FilterEvaluator
{
    public static GateResult Evaluate(FilterExpression expression, VersionFacts facts)
    {
        var (passed, failures, observed) = Visit(expression, facts);
        return new GateResult(passed, expression.ToString() ?? "", failures, observed);
    }

    public static bool Matches(FilterExpression expression, VersionFacts facts) => Visit(expression, facts).Passed;

    private static (bool Passed, List<GateClause> Failures, List<GateClause> Observed) Visit(FilterExpression expression, VersionFacts facts)
    {
        switch (expression)
        {
            case AndExpression and:
            {
                var left = Visit(and.Left, facts);
                var right = Visit(and.Right, facts);
                var failures = new List<GateClause>();
                if (!left.Passed) failures.AddRange(left.Failures);
                if (!right.Passed) failures.AddRange(right.Failures);
                return (left.Passed && right.Passed, failures, [.. left.Observed, .. right.Observed]);
            }

            case OrExpression or:
            {
                var left = Visit(or.Left, facts);
                var right = Visit(or.Right, facts);
                var passed = left.Passed || right.Passed;
                return (passed, passed ? [] : [.. left.Failures, .. right.Failures], [.. left.Observed, .. right.Observed]);
            }

            case NotExpression not:
            {
                var operand = Visit(not.Operand, facts);
                var actual = string.Join(", ", operand.Observed.Select(o => o.Actual));
                return (!operand.Passed, operand.Passed ? [new GateClause(not.ToString(), actual, false)] : [], operand.Observed);
            }

            case ComparisonExpression comparison:
            {
                var (passed, actual) = Compare(comparison, facts);
                var clause = new GateClause(comparison.ToString(), actual, passed);
                return (passed, passed ? [] : [clause], [clause]);
            }

            default:
                throw new InvalidOperationException($"Unknown filter node {expression.GetType().Name}.");
        }
    }

    private static (bool Passed, string Actual) Compare(ComparisonExpression c, VersionFacts facts)
    {
        var op = c.Operator;
        switch (c.Field.Kind)
        {
            case FilterFieldKind.Metric:
            {
                var present = facts.Metrics.TryGetValue(c.Field.Key!, out var value);
                var actual = present ? value.ToString("R", CultureInfo.InvariantCulture) : "missing";
                return (Nullable(op, present) ?? (present && CompareNumber(op, value, c.Values)), actual);
            }

            case FilterFieldKind.Metadata or FilterFieldKind.Scan:
            {
                var field = InsightFields.Find(c.Field.Kind, c.Field.Key)!;
                var value = InsightFields.Value(facts.Insight, field);
                var actual = value switch
                {
                    null => facts.Insight is null ? "missing (not read yet)" : "missing",
                    double d => d.ToString("R", CultureInfo.InvariantCulture),
                    _ => new StringValue((string)value).ToString(),
                };
                var passed = Nullable(op, value is not null) ?? value switch
                {
                    double d => CompareNumber(op, d, c.Values),
                    string s => CompareString(op, s, c.Values, semver: false),
                    _ => false,
                };
                return (passed, actual);
            }

            case FilterFieldKind.Version:
                return (Nullable(op, true) ?? CompareNumber(op, facts.Number, c.Values), facts.Number.ToString(CultureInfo.InvariantCulture));

            case var kind when LineageFilter.IsLineage(kind):
                return LineageFilter.Evaluate(c, facts, (o, value, values) => CompareString(o, value, values, semver: false));

            case FilterFieldKind.Size:
                return (Nullable(op, true) ?? CompareNumber(op, facts.TotalSize, c.Values), facts.TotalSize.ToString(CultureInfo.InvariantCulture));

            case FilterFieldKind.Files:
                return (Nullable(op, true) ?? CompareNumber(op, facts.FileCount, c.Values), facts.FileCount.ToString(CultureInfo.InvariantCulture));

            case FilterFieldKind.Created:
            {
                var value = facts.CreatedAt;
                var passed = Nullable(op, true) ?? op switch
                {
                    FilterOperator.In => c.Values.OfType<TimestampValue>().Any(v => v.Utc == value),
                    FilterOperator.NotIn => c.Values.OfType<TimestampValue>().All(v => v.Utc != value),
                    _ => Ordered(op, value.CompareTo(((TimestampValue)c.Values[0]).Utc)),
                };
                return (passed, "'" + value.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) + "'");
            }

            case FilterFieldKind.Alias:
            {
                var aliases = facts.Aliases;
                var actual = aliases.Count == 0 ? "no alias" : "[" + string.Join(", ", aliases.Order(StringComparer.Ordinal)) + "]";
                var passed = op switch
                {
                    FilterOperator.IsNull => aliases.Count == 0,
                    FilterOperator.IsNotNull => aliases.Count > 0,
                    FilterOperator.NotEqual or FilterOperator.NotLike or FilterOperator.NotILike or FilterOperator.NotIn =>
                        !aliases.Any(a => CompareString(Positive(op), a, c.Values, semver: false)),
                    _ => aliases.Any(a => CompareString(op, a, c.Values, semver: false)),
                };
                return (passed, actual);
            }

            default:
            {
                var value = c.Field.Kind switch
                {
                    FilterFieldKind.Name => facts.Name,
                    FilterFieldKind.Namespace => facts.Namespace,
                    FilterFieldKind.SemVer => facts.SemVer,
                    FilterFieldKind.Stage => facts.Stage,
                    FilterFieldKind.Digest => facts.Digest,
                    FilterFieldKind.Param => facts.Params.GetValueOrDefault(c.Field.Key!),
                    _ => facts.Tags.GetValueOrDefault(c.Field.Key!),
                };
                var actual = value is null ? "missing" : new StringValue(value).ToString();
                return (Nullable(op, value is not null) ?? (value is not null && CompareString(op, value, c.Values, c.Field.Kind == FilterFieldKind.SemVer)), actual);
            }
        }
    }

    /// <summary>The result of <c>is [not] null</c>; null for other operators.</summary>
    private static bool? Nullable(FilterOperator op, bool present) => op switch
    {
        FilterOperator.IsNull => !present,
        FilterOperator.IsNotNull => present,
        _ => null,
    };

    private static bool CompareNumber(FilterOperator op, double value, IReadOnlyList<FilterValue> values) => op switch
    {
        FilterOperator.In => values.OfType<NumberValue>().Any(v => v.Value == value),
        FilterOperator.NotIn => values.OfType<NumberValue>().All(v => v.Value != value),
        _ => Ordered(op, value.CompareTo(((NumberValue)values[0]).Value)),
    };

    private static bool Ordered(FilterOperator op, int comparison) => op switch
    {
        FilterOperator.Equal => comparison == 0,
        FilterOperator.NotEqual => comparison != 0,
        FilterOperator.LessThan => comparison < 0,
        FilterOperator.LessThanOrEqual => comparison <= 0,
        FilterOperator.GreaterThan => comparison > 0,
        FilterOperator.GreaterThanOrEqual => comparison >= 0,
        _ => throw new InvalidOperationException($"{op} does not order."),
    };

    private static bool CompareString(FilterOperator op, string value, IReadOnlyList<FilterValue> values, bool semver)
    {
        var candidates = values.OfType<StringValue>().Select(v => semver ? NormalizeSemVer(v.Value) : v.Value).ToList();
        return op switch
        {
            FilterOperator.Equal => string.Equals(value, candidates[0], StringComparison.Ordinal),
            FilterOperator.NotEqual => !string.Equals(value, candidates[0], StringComparison.Ordinal),
            FilterOperator.In => candidates.Contains(value, StringComparer.Ordinal),
            FilterOperator.NotIn => !candidates.Contains(value, StringComparer.Ordinal),
            FilterOperator.Like => Like(value, candidates[0], ignoreCase: false),
            FilterOperator.NotLike => !Like(value, candidates[0], ignoreCase: false),
            FilterOperator.ILike => Like(value, candidates[0], ignoreCase: true),
            FilterOperator.NotILike => !Like(value, candidates[0], ignoreCase: true),
            _ => Ordered(op, string.CompareOrdinal(value, candidates[0])),
        };
    }

    private static FilterOperator Positive(FilterOperator op) => op switch
    {
        FilterOperator.NotEqual => FilterOperator.Equal,
        FilterOperator.NotLike => FilterOperator.Like,
        FilterOperator.NotILike => FilterOperator.ILike,
        _ => FilterOperator.In,
    };

    private static string NormalizeSemVer(string text) => SemanticVersion.TryParse(text, out var version) ? version.ToString() : text;

    /// <summary>SQL LIKE (<see cref="LikePattern"/>); <c>ilike</c> lowers the ASCII letters of both sides, as the databases do.</summary>
    private static bool Like(string value, string pattern, bool ignoreCase) =>
        ignoreCase ? LikePattern.Matches(LikePattern.AsciiLower(value), LikePattern.AsciiLower(pattern)) : LikePattern.Matches(value, pattern);
}
