using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Berth.Core.Filtering;
using CsCheck;

namespace Berth.Core.Tests.Properties;

/// <summary>
/// The filter language of docs/filters.md: generated expressions print to text that parses back to the same tree; any
/// text either parses or fails with <c>invalid_filter</c> at a position inside it; and the in-memory evaluator (stage
/// gates) gives <c>like</c> and <c>ilike</c> the meaning the documentation and the databases give them.
/// </summary>
public sealed class FilterPropertyTests
{
    private static readonly FilterFieldKind[] Strings = [FilterFieldKind.Name, FilterFieldKind.Namespace, FilterFieldKind.Digest, FilterFieldKind.SemVer, FilterFieldKind.Stage, FilterFieldKind.Alias, FilterFieldKind.Param, FilterFieldKind.Tag];
    private static readonly FilterFieldKind[] Numbers = [FilterFieldKind.Version, FilterFieldKind.Size, FilterFieldKind.Files, FilterFieldKind.Metric];
    private static readonly FilterFieldKind[] Nullable = [FilterFieldKind.SemVer, FilterFieldKind.Stage, FilterFieldKind.Alias, FilterFieldKind.Metric, FilterFieldKind.Param, FilterFieldKind.Tag];

    private static readonly FilterOperator[] Ordered = [FilterOperator.Equal, FilterOperator.NotEqual, FilterOperator.LessThan, FilterOperator.LessThanOrEqual, FilterOperator.GreaterThan, FilterOperator.GreaterThanOrEqual, FilterOperator.In, FilterOperator.NotIn];
    private static readonly FilterOperator[] Textual = [FilterOperator.Equal, FilterOperator.NotEqual, FilterOperator.Like, FilterOperator.NotLike, FilterOperator.ILike, FilterOperator.NotILike, FilterOperator.In, FilterOperator.NotIn];

    /// <summary>Keys: bare ones, and ones that need quoting (spaces, quotes, backticks, backslashes, any Unicode).</summary>
    private static readonly Gen<string> Key = Gen.Frequency(
        (3, Generated.From("abcXYZ019_.-/", 1, 8)),
        (1, Generated.Joined(["a", " ", "`", "\"", "'", "\\", "\u00E9", "\uD83D\uDE00", "\u202E", "\n", "metrics.x", "and"], 1, 5)));

    private static readonly Gen<string> Text = Generated.Joined(["a", "B", " ", "'", "\"", "`", "\\", "%", "_", "\\%", "\u00E9", "\uD83D\uDE00", "\u202E", "\0", "\n", "and", ")"], 0, 6);

    private static readonly Gen<FilterValue> TimestampValue = Gen.Long[DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks]
        .Select(ticks => (FilterValue)new TimestampValue(new DateTime(ticks, DateTimeKind.Utc)));

    private static Gen<FilterValue> NumberFor(FilterFieldKind kind) => kind switch
    {
        FilterFieldKind.Version or FilterFieldKind.Files => Gen.Int.Select(n => (FilterValue)new NumberValue(n)),
        FilterFieldKind.Size => Gen.Long[-(1L << 53), 1L << 53].Select(n => (FilterValue)new NumberValue(n)),
        _ => Gen.Double.Where(double.IsFinite).Select(d => (FilterValue)new NumberValue(d)),
    };

    private static readonly Gen<FilterExpression> Comparison =
        Gen.Frequency((3, Gen.OneOf(Strings)), (2, Gen.OneOf(Numbers)), (1, Gen.Const(FilterFieldKind.Created)))
            .SelectMany(kind => Key.Select(key => new FilterField(kind, kind is FilterFieldKind.Metric or FilterFieldKind.Param or FilterFieldKind.Tag ? key : null)))
            .SelectMany(field =>
            {
                var value = field.Kind == FilterFieldKind.Created ? TimestampValue
                    : Numbers.Contains(field.Kind) ? NumberFor(field.Kind)
                    : Text.Select(t => (FilterValue)new StringValue(t));
                FilterOperator[] operators = [.. Strings.Contains(field.Kind) ? Textual : Ordered, .. Nullable.Contains(field.Kind) ? [FilterOperator.IsNull, FilterOperator.IsNotNull] : Array.Empty<FilterOperator>()];
                return Gen.OneOf(operators).SelectMany(op => op switch
                {
                    FilterOperator.IsNull or FilterOperator.IsNotNull => Gen.Const<FilterExpression>(new ComparisonExpression(field, op, [])),
                    FilterOperator.In or FilterOperator.NotIn => value.Array[1, 4].Select(values => (FilterExpression)new ComparisonExpression(field, op, values)),
                    _ => value.Select(v => (FilterExpression)new ComparisonExpression(field, op, [v])),
                });
            });

    /// <summary>Expressions up to a few levels deep (well inside the parser's limits).</summary>
    private static readonly Gen<FilterExpression> Expression = Gen.Recursive<FilterExpression>((depth, inner) => depth >= 5
        ? Comparison
        : Gen.Frequency(
            (3, Comparison),
            (1, Gen.Select(inner, inner, (l, r) => (FilterExpression)new AndExpression(l, r))),
            (1, Gen.Select(inner, inner, (l, r) => (FilterExpression)new OrExpression(l, r))),
            (1, inner.Select(e => (FilterExpression)new NotExpression(e)))));

    private static readonly string[] FilterPieces =
    [
        "metrics.", "params.", "tags.", "auc", "`a b`", "\"q\"", "name", "version", "size", "created", "stage", "alias", "semver", "digest", "files",
        " = ", "==", "!=", "<>", " < ", ">=", " like ", " ilike ", " not ", " in ", " is ", "null", " and ", " or ", "(", ")", ", ",
        "'x'", "\"y\"", "'", "\\", "'\\''", "1", "-2.5", "1e309", "1e", "0x1F", "'2026-01-01'", "'2026-13-45'", "%", "_", " ",
    ];

    [Fact]
    public void EveryExpressionPrintsToTextThatParsesBackToTheSameTree()
    {
        Expression.Sample(expression =>
        {
            var text = expression.ToString()!;
            Assert.Equal(expression, FilterParser.Parse(text));
        }, iter: Generated.Iterations, threads: Generated.Threads, print: e => e.ToString() ?? "");
    }

    [Fact]
    public void AnyTextParsesOrFailsWithInvalidFilterAtAPositionInsideIt()
    {
        Gen.Frequency((4, Generated.Joined(FilterPieces, 0, 14)), (1, Generated.Hostile(FilterPieces, 14)), (1, Expression.Select(e => e.ToString()!)))
            .Sample(text =>
            {
                FilterExpression parsed;
                try
                {
                    parsed = FilterParser.Parse(text);
                }
                catch (RegistryException e)
                {
                    Assert.Equal(ErrorCodes.InvalidFilter, e.Error);
                    var position = Assert.IsType<int>(e.Extensions["position"]);
                    Assert.InRange(position, 0, Math.Max(text.Length, 0));
                    return;
                }

                // What parses has a canonical form that parses to the same tree (within the parser's length limit).
                var printed = parsed.ToString()!;
                if (printed.Length <= FilterParser.MaxLength)
                {
                    Assert.Equal(parsed, FilterParser.Parse(printed));
                }
            }, iter: Generated.Iterations * 4, threads: Generated.Threads, print: Generated.Show);
    }

    [Fact]
    public void LikeAndILikeInAGateMeanWhatTheyMeanInSql()
    {
        var value = Generated.Joined(["a", "A", "b", "%", "_", "\\", "\u00E9", "\u00C9", "\u212A", "k", "\uD83D\uDE00", "\n"], 0, 12);
        var pattern = Generated.Joined(["a", "A", "b", "%", "_", "\\", "\\%", "\\_", "\\\\", "\u00E9", "\u00C9", "\uD83D\uDE00"], 0, 6);
        Gen.Select(value, pattern).Sample((text, like) =>
        {
            var facts = Facts(text);
            foreach (var (op, expected) in new[]
            {
                (FilterOperator.Like, SqlLike(text, like)),
                (FilterOperator.NotLike, !SqlLike(text, like)),
                (FilterOperator.ILike, SqlLike(AsciiLower(text), AsciiLower(like))),
                (FilterOperator.NotILike, !SqlLike(AsciiLower(text), AsciiLower(like))),
            })
            {
                var condition = new ComparisonExpression(new FilterField(FilterFieldKind.Tag, "t"), op, [new StringValue(like)]);
                Assert.True(expected == FilterEvaluator.Matches(condition, facts), $"{Generated.Show(text)} {FilterOperators.Symbol(op)} {Generated.Show(like)}: expected {expected}");
            }
        }, iter: Generated.Iterations * 2, threads: Generated.Threads, print: t => $"{Generated.Show(t.Item1)} like {Generated.Show(t.Item2)}");
    }

    [Fact]
    public void ALikePatternFullOfWildcardsIsEvaluatedQuickly()
    {
        // Such a gate made the regular expression behind 'like' backtrack for longer than its timeout, so a promotion
        // failed with a 500 instead of an answer.
        var pattern = string.Concat(Enumerable.Repeat("%a", 30)) + "%b";
        var condition = FilterParser.Parse($"tags.t like '{pattern}'");
        var started = System.Diagnostics.Stopwatch.StartNew();

        Assert.False(FilterEvaluator.Matches(condition, Facts(new string('a', 1024))));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"took {started.Elapsed}");
    }

    private static VersionFacts Facts(string tag) =>
        new("ns", "m", 1, null, null, [], new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), "sha256:" + new string('0', 64), 0, 0,
            new Dictionary<string, double>(), new Dictionary<string, string>(), new Dictionary<string, string> { ["t"] = tag });

    private static string AsciiLower(string s) => string.Concat(s.Select(c => c is >= 'A' and <= 'Z' ? (char)(c + 32) : c));

    /// <summary>
    /// SQL LIKE with '\' as the escape character, over characters (code points): '%' matches any run, '_' one character,
    /// '\' makes the next character literal; a '\' at the end of the pattern stands for itself.
    /// </summary>
    private static bool SqlLike(string value, string pattern)
    {
        var text = value.EnumerateRunes().ToArray();
        var tokens = new List<(bool Literal, System.Text.Rune Rune)>();
        var runes = pattern.EnumerateRunes().ToArray();
        for (var i = 0; i < runes.Length; i++)
        {
            tokens.Add(runes[i].Value == '\\' && i + 1 < runes.Length ? (true, runes[++i]) : (runes[i].Value == '\\', runes[i]));
        }

        // matches[i, j]: the first i tokens match the first j characters.
        var matches = new bool[tokens.Count + 1, text.Length + 1];
        matches[0, 0] = true;
        for (var i = 1; i <= tokens.Count; i++)
        {
            var (literal, rune) = tokens[i - 1];
            for (var j = 0; j <= text.Length; j++)
            {
                matches[i, j] = !literal && rune.Value == '%'
                    ? matches[i - 1, j] || (j > 0 && matches[i, j - 1])
                    : j > 0 && matches[i - 1, j - 1] && ((!literal && rune.Value == '_') || rune == text[j - 1]);
            }
        }

        return matches[tokens.Count, text.Length];
    }
}
