using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Berth.Core.Filtering;

namespace Berth.Core.Tests.Filtering;

public sealed class FilterParserTests
{
    private static RegistryException Rejects(string? filter) =>
        Assert.Throws<RegistryException>(() => FilterParser.Parse(filter));

    private static ComparisonExpression Condition(string filter) =>
        Assert.IsType<ComparisonExpression>(FilterParser.Parse(filter));

    public sealed class Parse
    {
        [Fact]
        public void BuildsAComparisonWithTypedFieldOperatorAndValue()
        {
            var expected = new ComparisonExpression(new FilterField(FilterFieldKind.Metric, "auc"), FilterOperator.GreaterThan, [new NumberValue(0.9)]);

            Assert.Equal(expected, FilterParser.Parse("metrics.auc > 0.9"));
        }

        [Theory]
        [InlineData("metrics.auc > 0.9 and tags.team = \"risk\"", "(metrics.auc > 0.9 and tags.team = 'risk')")]
        [InlineData("name = 'a' or name = 'b' and name = 'c'", "(name = 'a' or (name = 'b' and name = 'c'))")]
        [InlineData("name = 'a' and name = 'b' or name = 'c'", "((name = 'a' and name = 'b') or name = 'c')")]
        [InlineData("not name = 'a' and name = 'b'", "(not name = 'a' and name = 'b')")]
        [InlineData("not name = 'a' or name = 'b'", "(not name = 'a' or name = 'b')")]
        [InlineData("not (name = 'a' or name = 'b')", "not (name = 'a' or name = 'b')")]
        [InlineData("not not name = 'a'", "not not name = 'a'")]
        [InlineData("name = 'a' and name = 'b' and name = 'c'", "((name = 'a' and name = 'b') and name = 'c')")]
        [InlineData("name = 'a' or name = 'b' or name = 'c'", "((name = 'a' or name = 'b') or name = 'c')")]
        [InlineData("(name = 'a' or name = 'b') and name = 'c'", "((name = 'a' or name = 'b') and name = 'c')")]
        [InlineData("name = 'a' and (name = 'b' or (name = 'c'))", "(name = 'a' and (name = 'b' or name = 'c'))")]
        [InlineData("(stage = 'production' or alias = \"champion\") and not params.optimizer = 'adam'",
            "((stage = 'production' or alias = 'champion') and not params.optimizer = 'adam')")]
        [InlineData("name like 'fraud%' and namespace in ('acme', 'risk') and created >= \"2026-01-01\"",
            "((name like 'fraud%' and namespace in ('acme', 'risk')) and created >= '2026-01-01T00:00:00Z')")]
        public void HonoursPrecedenceOrBelowAndBelowNotBelowComparison(string filter, string expected)
        {
            Assert.Equal(expected, FilterParser.Parse(filter).ToString());
        }

        [Theory]
        [InlineData("version = 1", FilterOperator.Equal)]
        [InlineData("version == 1", FilterOperator.Equal)]
        [InlineData("version != 1", FilterOperator.NotEqual)]
        [InlineData("version <> 1", FilterOperator.NotEqual)]
        [InlineData("version < 1", FilterOperator.LessThan)]
        [InlineData("version <= 1", FilterOperator.LessThanOrEqual)]
        [InlineData("version > 1", FilterOperator.GreaterThan)]
        [InlineData("version >= 1", FilterOperator.GreaterThanOrEqual)]
        [InlineData("name like 'a%'", FilterOperator.Like)]
        [InlineData("name not like 'a%'", FilterOperator.NotLike)]
        [InlineData("name ilike 'a%'", FilterOperator.ILike)]
        [InlineData("name not ilike 'a%'", FilterOperator.NotILike)]
        [InlineData("name in ('a', 'b')", FilterOperator.In)]
        [InlineData("name not in ('a')", FilterOperator.NotIn)]
        [InlineData("stage is null", FilterOperator.IsNull)]
        [InlineData("stage is not null", FilterOperator.IsNotNull)]
        public void ReadsEveryOperator(string filter, FilterOperator expected)
        {
            Assert.Equal(expected, Condition(filter).Operator);
        }

        [Fact]
        public void ReadsEveryValueOfAnInList()
        {
            var condition = Condition("metrics.auc in (1, -2.5, 3e2)");

            Assert.Equal([new NumberValue(1), new NumberValue(-2.5), new NumberValue(300)], condition.Values);
        }

        [Fact]
        public void KeepsNoValueForIsNull()
        {
            Assert.Empty(Condition("tags.validated is not null").Values);
        }

        [Theory]
        [InlineData("NAME LIKE 'x' AnD Stage Is NoT NuLl Or version In (1, 2)", "((name like 'x' and stage is not null) or version in (1, 2))")]
        [InlineData("NOT Metrics.auc > 1 OR TAGS.k ILIKE 'a'", "(not metrics.auc > 1 or tags.k ilike 'a')")]
        public void IgnoresTheCaseOfKeywordsAndFieldNames(string filter, string expected)
        {
            Assert.Equal(expected, FilterParser.Parse(filter).ToString());
        }

        [Theory]
        [InlineData("name", FilterFieldKind.Name)]
        [InlineData("namespace", FilterFieldKind.Namespace)]
        [InlineData("semver", FilterFieldKind.SemVer)]
        [InlineData("stage", FilterFieldKind.Stage)]
        [InlineData("alias", FilterFieldKind.Alias)]
        [InlineData("digest", FilterFieldKind.Digest)]
        public void KnowsEveryStringField(string field, FilterFieldKind expected)
        {
            Assert.Equal(new FilterField(expected), Condition($"{field} = 'x'").Field);
        }

        [Theory]
        [InlineData("metrics.`val/loss` <= 0.2", FilterFieldKind.Metric, "val/loss")]
        [InlineData("metrics.val/loss <= 0.2", FilterFieldKind.Metric, "val/loss")]
        [InlineData("metrics.auc>0.9", FilterFieldKind.Metric, "auc")]
        [InlineData("tags.\"mlflow.source\" = 'x'", FilterFieldKind.Tag, "mlflow.source")]
        [InlineData("tags.a-b.c_d/E9 = 'x'", FilterFieldKind.Tag, "a-b.c_d/E9")]
        [InlineData("tags.`has space` = 'x'", FilterFieldKind.Tag, "has space")]
        [InlineData("""tags.`a\`b\\c` = 'x'""", FilterFieldKind.Tag, """a`b\c""")]
        [InlineData("params.\"learning rate\" = '0.1'", FilterFieldKind.Param, "learning rate")]
        [InlineData("params.Optimizer='adam'", FilterFieldKind.Param, "Optimizer")]
        public void ReadsKeysBareBacktickedOrDoubleQuoted(string filter, FilterFieldKind kind, string key)
        {
            Assert.Equal(new FilterField(kind, key), Condition(filter).Field);
        }

        [Theory]
        [InlineData("""name = 'plain'""", "plain")]
        [InlineData("""name = "double" """, "double")]
        [InlineData("""name = 'it\'s'""", "it's")]
        [InlineData("""name = "it's" """, "it's")]
        [InlineData("""name = "say \"hi\"" """, "say \"hi\"")]
        [InlineData("""name = 'back\\slash'""", """back\slash""")]
        [InlineData("""name = 'tick\`'""", "tick`")]
        [InlineData("""name = ''""", "")]
        [InlineData("""name = 'and or not ( ) = 1'""", "and or not ( ) = 1")]
        public void ResolvesEscapesInSingleAndDoubleQuotedStrings(string filter, string expected)
        {
            Assert.Equal(new StringValue(expected), Assert.Single(Condition(filter).Values));
        }

        [Theory]
        [InlineData("0", 0)]
        [InlineData("42", 42)]
        [InlineData("-7", -7)]
        [InlineData("0.25", 0.25)]
        [InlineData("-0.5", -0.5)]
        [InlineData("1e3", 1000)]
        [InlineData("1.5E-2", 0.015)]
        [InlineData("-2e+2", -200)]
        public void ReadsIntegerDecimalExponentAndNegativeNumbers(string number, double expected)
        {
            Assert.Equal(new NumberValue(expected), Assert.Single(Condition($"metrics.x = {number}").Values));
        }

        [Theory]
        [InlineData("2026-01-01", "2026-01-01T00:00:00")]
        [InlineData("2026-01-01T12:30", "2026-01-01T12:30:00")]
        [InlineData("2026-01-01T12:30:15Z", "2026-01-01T12:30:15")]
        [InlineData("2026-01-01T12:30:15.25+02:00", "2026-01-01T10:30:15.25")]
        [InlineData("2026-01-01 12:30:15", "2026-01-01T12:30:15")]
        public void ReadsCreatedAsUtcTimestamps(string text, string expectedUtc)
        {
            var value = Assert.IsType<TimestampValue>(Assert.Single(Condition($"created >= '{text}'").Values));

            Assert.Equal(DateTime.SpecifyKind(DateTime.Parse(expectedUtc, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc), value.Utc);
            Assert.Equal(DateTimeKind.Utc, value.Utc.Kind);
        }

        [Theory]
        [InlineData("\tmetrics.auc\n>\r\n0.9  ")]
        [InlineData("metrics.auc>0.9")]
        [InlineData("(metrics.auc>0.9)")]
        public void IgnoresWhitespace(string filter)
        {
            Assert.Equal("metrics.auc > 0.9", FilterParser.Parse(filter).ToString());
        }

        [Theory]
        [InlineData("(stage = 'production' or alias = \"champion\") and not params.optimizer = 'adam'")]
        [InlineData("""tags.`odd key\`` = 'it\'s' and metrics.`val loss` in (1, 2.5) or semver is null""")]
        [InlineData("name not ilike 'A\\\\%' and created < '2026-03-04T05:06:07.5Z' and version != 3")]
        public void PrintsACanonicalFormThatParsesBackToTheSameTree(string filter)
        {
            var parsed = FilterParser.Parse(filter);

            Assert.Equal(parsed, FilterParser.Parse(parsed.ToString()));
        }

        [Fact]
        public void AcceptsExactlyTheMaximumNesting()
        {
            var filter = new string('(', FilterParser.MaxDepth) + "name = 'a'" + new string(')', FilterParser.MaxDepth);

            Assert.Equal("name = 'a'", FilterParser.Parse(filter).ToString());
        }

        [Fact]
        public void AcceptsExactlyTheMaximumNumberOfClauses()
        {
            var filter = string.Join(" or ", Enumerable.Range(0, FilterParser.MaxClauses).Select(i => $"version = {i}"));

            Assert.Equal(FilterParser.MaxClauses, Conditions(FilterParser.Parse(filter)));
        }

        private static int Conditions(FilterExpression node) => node switch
        {
            AndExpression and => Conditions(and.Left) + Conditions(and.Right),
            OrExpression or => Conditions(or.Left) + Conditions(or.Right),
            NotExpression not => Conditions(not.Operand),
            _ => 1,
        };

        [Fact]
        public void AcceptsExactlyTheMaximumLength()
        {
            var filter = "name = '" + new string('x', FilterParser.MaxLength - 9) + "'";

            Assert.Equal(FilterParser.MaxLength, filter.Length);
            Assert.Equal(FilterParser.MaxLength - 9, ((StringValue)Condition(filter).Values[0]).Value.Length);
        }
    }

    public sealed class ParseErrors
    {
        [Theory]
        [InlineData("", 0, "The filter is empty")]
        [InlineData("   ", 0, "The filter is empty")]
        [InlineData(null, 0, "The filter is empty")]
        [InlineData("metrics.auc >", 13, "Expected a value after '>': a number")]
        [InlineData("metrics.auc > 0.9 and", 21, "Expected a condition")]
        [InlineData("name = 'a' and or name = 'b'", 15, "Expected a condition")]
        [InlineData("and = 1", 0, "Expected a condition")]
        [InlineData(")", 0, "Expected a condition")]
        [InlineData("foo = 1", 0, "Unknown field 'foo'")]
        [InlineData("name = 'a' and nmae = 'b'", 15, "Unknown field 'nmae'")]
        [InlineData("name 'a'", 5, "Expected an operator after 'name'")]
        [InlineData("name ! 'a'", 5, "Expected '=' after '!'")]
        [InlineData("name = 'a' extra", 11, "Expected 'and', 'or' or the end of the filter, found 'extra'")]
        [InlineData("name = 'a')", 10, "Unexpected ')': it has no matching '('")]
        [InlineData("(name = 'a'", 11, "Expected ')' to close the '(' at position 0")]
        [InlineData("((name = 'a') or name = 'b'", 27, "Expected ')' to close the '(' at position 0")]
        [InlineData("stage is 'x'", 9, "Expected 'null' or 'not null' after 'is'")]
        [InlineData("stage is not 'x'", 13, "Expected 'null' after 'is not'")]
        [InlineData("stage not = 'x'", 10, "Expected 'like', 'ilike' or 'in' after 'not'")]
        [InlineData("stage in 'x'", 9, "Expected '(' and a list of values")]
        [InlineData("stage in ('a' 'b')", 14, "Expected ',' or ')' in the list")]
        [InlineData("stage in ()", 10, "Expected a value in the list")]
        [InlineData("stage in ('a',)", 14, "Expected a value in the list")]
        [InlineData("stage = null", 8, "stage is null")]
        [InlineData("name = 'a' # b", 11, "Unexpected character '#'")]
        [InlineData("metrics.auc > -", 14, "Unexpected character '-'")]
        [InlineData("name = `x`", 7, "backticks quote a key")]
        public void RejectsBadSyntaxAtThePositionOfTheProblem(string? filter, int position, string message)
        {
            var error = Rejects(filter);

            Assert.Equal(ErrorCodes.InvalidFilter, error.Error);
            Assert.Equal(position, error.Extensions["position"]);
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("name = 'abc", 7, "Unterminated string")]
        [InlineData("name = \"abc'", 7, "Unterminated string")]
        [InlineData("name = 'abc\\'", 7, "Unterminated string")]
        [InlineData("name = 'abc\\", 7, "Unterminated string")]
        [InlineData("tags.`abc = 'x'", 5, "Unterminated key")]
        [InlineData("tags.\"abc = 'x'", 5, "Unterminated key")]
        [InlineData("name = 'a\\nb'", 9, "Unknown escape '\\n'")]
        [InlineData("metrics = 1", 7, "Expected '.' and a key after 'metrics'")]
        [InlineData("params.= 'x'", 7, "Expected a key after 'params.'")]
        [InlineData("tags. = 'x'", 5, "Expected a key after 'tags.'")]
        [InlineData("metrics.`` = 1", 8, "Expected a key after 'metrics.'")]
        [InlineData("metrics.auc > 0.9x", 14, "Invalid number '0.9x'")]
        [InlineData("metrics.auc > 1.", 14, "Invalid number '1.'")]
        [InlineData("metrics.auc > 1e999", 14, "out of range")]
        public void RejectsBadTokensAtTheirStart(string filter, int position, string message)
        {
            var error = Rejects(filter);

            Assert.Equal(position, error.Extensions["position"]);
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("metrics.auc = \"x\"", 14, "metrics.auc is a number; expected a number, found the string 'x'")]
        [InlineData("version = '3'", 10, "version is a number")]
        [InlineData("version = 1.5", 10, "version is a whole number")]
        [InlineData("version = 3000000000", 10, "version is a whole number")]
        [InlineData("version like 'a'", 8, "'like' does not apply to version")]
        [InlineData("metrics.auc not ilike 'a'", 12, "'not ilike' does not apply to metrics.auc")]
        [InlineData("name = 5", 7, "name is a string; expected a quoted string, found the number 5")]
        [InlineData("tags.k in ('a', 2)", 16, "tags.k is a string")]
        [InlineData("metrics.auc in (1, 'b')", 19, "metrics.auc is a number")]
        [InlineData("tags.k > 'a'", 7, "'>' does not apply to tags.k, which is a string")]
        [InlineData("params.p <= 'a'", 9, "'<=' does not apply to params.p")]
        [InlineData("name is null", 5, "'is null' does not apply to name, which is a string that every version has")]
        [InlineData("version is not null", 8, "'is not null' does not apply to version")]
        [InlineData("created is null", 8, "'is null' does not apply to created")]
        [InlineData("created > 'yesterday'", 10, "created is compared to an ISO-8601 date or time")]
        [InlineData("created > 20260101", 10, "created is compared to an ISO-8601 date or time")]
        [InlineData("created > '2026-02-30'", 10, "ISO-8601")]
        [InlineData("created like '2026%'", 8, "'like' does not apply to created")]
        public void RejectsValuesAndOperatorsOfTheWrongTypeForTheField(string filter, int position, string message)
        {
            var error = Rejects(filter);

            Assert.Equal(ErrorCodes.InvalidFilter, error.Error);
            Assert.Equal(position, error.Extensions["position"]);
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void RejectsParenthesesNestedDeeperThanTheLimit()
        {
            var depth = FilterParser.MaxDepth + 1;
            var error = Rejects(new string('(', depth) + "name = 'a'" + new string(')', depth));

            Assert.Equal(FilterParser.MaxDepth, error.Extensions["position"]);
            Assert.Contains("more than 64 levels", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void CountsNotTowardsTheNestingLimit()
        {
            var error = Rejects(string.Concat(Enumerable.Repeat("not ", FilterParser.MaxDepth + 1)) + "name = 'a'");

            Assert.Equal(4 * FilterParser.MaxDepth, error.Extensions["position"]);
        }

        [Fact]
        public void RejectsMoreClausesThanTheLimitAtTheFirstClauseTooMany()
        {
            var clauses = Enumerable.Range(0, FilterParser.MaxClauses + 1).Select(i => $"version = {i}").ToList();
            var filter = string.Join(" or ", clauses);
            var expected = filter.LastIndexOf("version", StringComparison.Ordinal);

            var error = Rejects(filter);

            Assert.Equal(expected, error.Extensions["position"]);
            Assert.Contains("more than 200 conditions", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void RejectsInputLongerThanTheLimit()
        {
            var error = Rejects("name = '" + new string('x', FilterParser.MaxLength) + "'");

            Assert.Equal(FilterParser.MaxLength, error.Extensions["position"]);
            Assert.Contains("the limit is 4096", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void ReportsTheFirstErrorInReadingOrder()
        {
            var error = Rejects("foo = 1 and name = 'unterminated");

            Assert.Equal(0, error.Extensions["position"]);
            Assert.Contains("Unknown field", error.Message, StringComparison.Ordinal);
        }
    }
}
