using System.Linq.Expressions;
using Berth.Core.Data;
using Berth.Core.Filtering;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Core.Tests.Filtering;

public sealed class FilterTranslatorTests
{
    [Trait("Database", "both")]
    public sealed class ToPredicate(SearchDatabase database) : IClassFixture<SearchDatabase>
    {
        /// <summary>
        /// The SQL of a filtered query, split into its parameter lines (SQLite: <c>.param set @p 'v'</c>,
        /// PostgreSQL: <c>-- @p='v'</c>) and the statement itself.
        /// </summary>
        private (string Parameters, string Statement) Sql(string filter)
        {
            using var scope = database.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            var lines = db.Versions.Where(FilterTranslator.ToPredicate(FilterParser.Parse(filter))).ToQueryString().Split('\n');
            var parameters = lines.Where(l => l.StartsWith(".param", StringComparison.Ordinal) || l.StartsWith("-- @", StringComparison.Ordinal)).ToList();
            return (string.Join('\n', parameters), string.Join('\n', lines.Except(parameters)));
        }

        [Fact]
        public void SendsValuesAndKeysAsParametersNotAsSqlText()
        {
            var (parameters, statement) = Sql("tags.`team-key` = 'risk-xyz' and metrics.auc > 0.123 and name in ('n-one', 'n-two')");

            Assert.Contains("risk-xyz", parameters, StringComparison.Ordinal);
            Assert.Contains("team-key", parameters, StringComparison.Ordinal);
            Assert.DoesNotContain("risk-xyz", statement, StringComparison.Ordinal);
            Assert.DoesNotContain("team-key", statement, StringComparison.Ordinal);
            Assert.DoesNotContain("0.123", statement, StringComparison.Ordinal);
            Assert.DoesNotContain("n-one", statement, StringComparison.Ordinal);
        }

        [Fact]
        public void GivesFiltersThatDifferOnlyInValuesTheSameSql()
        {
            var first = Sql("tags.team = 'a' and metrics.auc > 0.5 and created >= '2026-01-01' and name like 'x%'");
            var second = Sql("tags.owner = 'b' and metrics.f1 > 0.7 and created >= '2027-02-02' and name like 'y%'");

            Assert.Equal(first.Statement, second.Statement);
            Assert.NotEqual(first.Parameters, second.Parameters);
        }

        [Fact]
        public void TranslatesLikeWithBackslashAsEscapeCharacter()
        {
            var (_, statement) = Sql("name like 'a%'");

            Assert.Contains("LIKE", statement, StringComparison.Ordinal);
            Assert.Contains("ESCAPE '\\'", statement, StringComparison.Ordinal);
            Assert.DoesNotContain("lower(", statement, StringComparison.Ordinal);
        }

        [Fact]
        public void TranslatesIlikeByLoweringTheValueInSqlAndThePatternInAdvance()
        {
            var (parameters, statement) = Sql("name ilike 'FrAuD%'");

            Assert.Contains("lower(", statement, StringComparison.Ordinal);
            Assert.Contains("fraud%", parameters, StringComparison.Ordinal);
            Assert.DoesNotContain("FrAuD", parameters, StringComparison.Ordinal);
        }

        [Fact]
        public void TranslatesKeyedConditionsToExistsSubqueries()
        {
            var (_, statement) = Sql("not metrics.auc > 0.9");

            Assert.Contains("NOT EXISTS (", statement, StringComparison.Ordinal);
            Assert.Contains("version_metrics", statement, StringComparison.Ordinal);
        }

        [Fact]
        public void CombinesLongChainsAsABalancedTree()
        {
            var filter = string.Join(" or ", Enumerable.Range(0, FilterParser.MaxClauses).Select(i => $"version = {i}"));

            var predicate = FilterTranslator.ToPredicate(FilterParser.Parse(filter));

            Assert.InRange(Depth(predicate.Body), 8, 10);
        }

        private static int Depth(Expression expression) => expression is BinaryExpression { NodeType: ExpressionType.OrElse or ExpressionType.AndAlso } binary
            ? 1 + Math.Max(Depth(binary.Left), Depth(binary.Right))
            : 0;
    }
}
