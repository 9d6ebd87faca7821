using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Configuration;
using Berth.Core.Errors;
using Berth.Core.Filtering;
using Berth.Core.Registry;
using Microsoft.Extensions.Options;
using static Berth.Core.Tests.Filtering.SearchDatabase;

namespace Berth.Core.Tests.Filtering;

public sealed class SearchServiceTests
{
    private static List<string> Refs(Page<VersionInfo> page) => page.Items.Select(i => i.Reference).ToList();

    [Trait("Database", "both")]
    public sealed class SearchAsync(SearchDatabase database) : IClassFixture<SearchDatabase>
    {
        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("  ")]
        public async Task ReturnsEveryReadyVersionOfLiveModelsWithoutAFilter(string? filter)
        {
            var page = await database.SearchAsync(filter);

            Assert.Equal(AllVisible.Order(StringComparer.Ordinal), Refs(page).Order(StringComparer.Ordinal));
            Assert.Null(page.NextCursor);
        }

        [Theory]
        // metrics: numbers; a missing metric matches nothing but 'is null' (and a negated condition).
        [InlineData("metrics.auc > 0.9", new[] { A2, A3, R1 })]
        [InlineData("metrics.auc >= 0.91", new[] { A2, A3, R1 })]
        [InlineData("metrics.auc < 0.9", new[] { A1, C1 })]
        [InlineData("metrics.auc <= 0.85", new[] { A1, C1 })]
        [InlineData("metrics.auc = 0.91", new[] { A2, R1 })]
        [InlineData("metrics.auc == 0.91", new[] { A2, R1 })]
        [InlineData("metrics.auc != 0.91", new[] { A1, A3, C1 })]
        [InlineData("metrics.auc <> 0.91", new[] { A1, A3, C1 })]
        [InlineData("not metrics.auc = 0.91", new[] { A1, A3, C1, C2 })]
        [InlineData("metrics.auc in (0.85, 0.95)", new[] { A1, A3 })]
        [InlineData("metrics.auc not in (0.85, 0.95)", new[] { A2, C1, R1 })]
        [InlineData("metrics.auc is null", new[] { C2 })]
        [InlineData("metrics.auc is not null", new[] { A1, A2, A3, C1, R1 })]
        [InlineData("metrics.f1 > -1e3", new[] { R1 })]
        [InlineData("metrics.`val/loss` <= 0.2", new[] { A2 })]
        [InlineData("metrics.val/loss > 0.25", new[] { A1 })]
        [InlineData("metrics.AUC > 0", new string[0])]
        // tags and params: strings, case-sensitive keys and values.
        [InlineData("metrics.auc > 0.9 and tags.team = \"risk\"", new[] { A2, R1 })]
        [InlineData("tags.\"mlflow.source\" = 'x'", new[] { A2 })]
        [InlineData("tags.validated is not null", new[] { A2 })]
        [InlineData("tags.validated is null", new[] { A1, A3, C1, C2, R1 })]
        [InlineData("tags.team != 'risk'", new[] { A3, C1 })]
        [InlineData("not tags.team = 'risk'", new[] { A3, C1, C2 })]
        [InlineData("tags.team like 'r%'", new[] { A1, A2, R1 })]
        [InlineData("tags.team not like 'r%'", new[] { A3, C1 })]
        [InlineData("tags.team ilike 'RISK'", new[] { A1, A2, A3, R1 })]
        [InlineData("tags.team not ilike 'r%'", new[] { C1 })]
        [InlineData("tags.team in ('growth', 'Risk')", new[] { A3, C1 })]
        [InlineData("tags.team not in ('growth', 'Risk')", new[] { A1, A2, R1 })]
        [InlineData("tags.note like '50%'", new[] { C1, R1 })]
        [InlineData("""tags.note like '50\\%\\_off'""", new[] { R1 })]
        [InlineData("tags.note like '50__off'", new[] { C1, R1 })]
        // ilike lowers ASCII letters only, on both sides (Ç and ç differ); a backslash that ends a pattern stands for itself.
        [InlineData("tags.place ilike '\u00C7A\\\\'", new[] { C2 })]
        [InlineData("tags.place ilike '\u00E7a%'", new string[0])]
        [InlineData("tags.place like '%\\\\'", new[] { C2 })]
        [InlineData("tags.place not like '\u00C7a\\\\'", new string[0])]
        [InlineData("params.optimizer = 'adam'", new[] { A2, C1, R1 })]
        [InlineData("params.optimizer ilike 'ADAM'", new[] { A2, A3, C1, R1 })]
        [InlineData("params.optimizer is null", new[] { C2 })]
        [InlineData("(stage = 'production' or alias = \"champion\") and not params.optimizer = 'adam'", new[] { A3 })]
        // stage and semver: columns that may be empty.
        [InlineData("stage = 'production'", new[] { A3, R1 })]
        [InlineData("stage != 'production'", new[] { A1, A2, C2 })]
        [InlineData("not stage = 'production'", new[] { A1, A2, C1, C2 })]
        [InlineData("stage is null", new[] { C1 })]
        [InlineData("stage is not null", new[] { A1, A2, A3, C2, R1 })]
        [InlineData("stage in ('staging', 'development')", new[] { A2, C2 })]
        [InlineData("stage not in ('staging', 'development')", new[] { A1, A3, R1 })]
        [InlineData("stage like 'prod%'", new[] { A3, R1 })]
        [InlineData("stage not like 'prod%'", new[] { A1, A2, C2 })]
        [InlineData("not stage like 'prod%'", new[] { A1, A2, C1, C2 })]
        [InlineData("semver = '1.0.0'", new[] { A1, R1 })]
        [InlineData("semver = 'v1.0.0'", new[] { A1, R1 })]
        [InlineData("semver in ('v1.1.0', '2.0.0-rc.1')", new[] { A2, A3 })]
        [InlineData("semver like '%-rc%'", new[] { A3 })]
        [InlineData("semver is null", new[] { C1 })]
        // alias: a version has a set of aliases.
        [InlineData("alias = 'champion'", new[] { A3, R1 })]
        [InlineData("alias != 'champion'", new[] { A1, A2, C1, C2 })]
        [InlineData("alias like 'c%'", new[] { A2, A3, R1 })]
        [InlineData("alias not like 'ch%'", new[] { A1, A2, C1, C2 })]
        [InlineData("alias ilike 'CAND%'", new[] { A2 })]
        [InlineData("alias in ('candidate', 'nope')", new[] { A2 })]
        [InlineData("alias not in ('candidate')", new[] { A1, A3, C1, C2, R1 })]
        [InlineData("alias is null", new[] { A1, C1, C2 })]
        [InlineData("alias is not null", new[] { A2, A3, R1 })]
        // name, namespace, version, created.
        [InlineData("name like 'fraud%' and namespace in ('acme', 'risk') and created >= \"2026-01-01\"", new[] { A1, A2, A3, R1 })]
        [InlineData("name = 'churn'", new[] { C1, C2 })]
        [InlineData("name like 'Fraud%'", new string[0])]
        [InlineData("name ilike 'FRAUD%'", new[] { A1, A2, A3, R1 })]
        [InlineData("name not like '%detector'", new[] { C1, C2, R1 })]
        [InlineData("namespace = 'risk'", new[] { R1 })]
        [InlineData("namespace != 'risk'", new[] { A1, A2, A3, C1, C2 })]
        [InlineData("namespace = 'gone'", new string[0])]
        [InlineData("version = 2", new[] { A2, C2 })]
        [InlineData("version >= 2 and version < 3", new[] { A2, C2 })]
        [InlineData("version > 2", new[] { A3 })]
        [InlineData("version <= 1", new[] { A1, C1, R1 })]
        [InlineData("version != 1", new[] { A2, A3, C2 })]
        [InlineData("version in (1, 3)", new[] { A1, A3, C1, R1 })]
        [InlineData("version not in (1, 3)", new[] { A2, C2 })]
        [InlineData("created < '2026-01-05'", new[] { A1 })]
        [InlineData("created = '2026-01-05T00:00:00Z'", new[] { A2, C1 })]
        [InlineData("created != '2026-01-05'", new[] { A1, A3, C2, R1 })]
        [InlineData("created > '2026-01-05T01:00:00+02:00'", new[] { A2, A3, C1, C2, R1 })]
        [InlineData("created >= '2026-01-10' and created <= '2026-01-20T00:00:00Z'", new[] { A3, R1 })]
        [InlineData("created in ('2026-01-01', '2026-02-01')", new[] { A1, C2 })]
        [InlineData("created > '2026-01-20'", new[] { C2 })]
        // size and files: numbers derived from the files (seeded as 1000 x id and the version number).
        [InlineData("size > 5000", new[] { C1, C2, R1 })]
        [InlineData("size <= 3000 and files >= 2", new[] { A2, A3 })]
        [InlineData("files = 1", new[] { A1, C1, R1 })]
        [InlineData("files in (2, 3) and not size = 7000", new[] { A2, A3 })]
        // precedence and negation reach the database intact.
        [InlineData("name = 'churn' or namespace = 'risk' and version = 2", new[] { C1, C2 })]
        [InlineData("(name = 'churn' or namespace = 'risk') and version = 1", new[] { C1, R1 })]
        [InlineData("not (tags.team = 'risk' or stage is null)", new[] { A3, C2 })]
        [InlineData("not not alias = 'champion'", new[] { A3, R1 })]
        public async Task ReturnsExactlyTheVersionsMatchingTheFilter(string filter, string[] expected)
        {
            var page = await database.SearchAsync(filter);

            Assert.Equal(expected.Order(StringComparer.Ordinal), Refs(page).Order(StringComparer.Ordinal));

            // Gates evaluate the same language in memory: it must agree with the SQL translation.
            var everything = await database.SearchAsync(null);
            var parsed = FilterParser.Parse(filter);
            var inMemory = everything.Items.Where(v => FilterEvaluator.Evaluate(parsed, Facts(v)).Passed).Select(v => v.Reference);
            Assert.Equal(expected.Order(StringComparer.Ordinal), inMemory.Order(StringComparer.Ordinal));
        }

        private static VersionFacts Facts(VersionInfo v) => new(
            v.Namespace, v.Model, v.Number, v.SemVer, v.Stage, v.Aliases, v.CreatedAt.UtcDateTime, v.ManifestDigest, v.TotalSize, v.FileCount,
            v.Metrics, v.Params, v.Tags);

        [Fact]
        public async Task FindsAVersionByItsManifestDigest()
        {
            var page = await database.SearchAsync($"digest = '{DigestOf(A2)}' or digest = '{DigestOf("acme/fraud-detector:4")}'");

            Assert.Equal([A2], Refs(page));
        }

        [Fact]
        public async Task NeverReturnsPendingDeletedOrOrphanedVersions()
        {
            var page = await database.SearchAsync("metrics.auc >= 0.99 or name in ('retired', 'thing') or namespace = 'gone' or version > 3");

            Assert.Empty(page.Items);
        }

        [Fact]
        public async Task ReturnsFullVersionDetails()
        {
            var info = Assert.Single((await database.SearchAsync("alias = 'candidate'")).Items);

            Assert.Equal(("acme", "fraud-detector", 2), (info.Namespace, info.Model, info.Number));
            Assert.Equal("1.1.0", info.SemVer);
            Assert.Equal("staging", info.Stage);
            Assert.Equal(0.91, info.Metrics["auc"]);
            Assert.Equal("adam", info.Params["optimizer"]);
            Assert.Equal("x", info.Tags["mlflow.source"]);
            Assert.Equal(["candidate"], info.Aliases);
            Assert.Equal("admin", info.CreatedBy);
            Assert.Null(info.Files);
        }

        [Fact]
        public async Task RunsTheLargestAllowedFilterInTheDatabase()
        {
            var clauses = Enumerable.Range(0, FilterParser.MaxClauses - 1).Select(i => $"tags.t{i} = 'v'").Append("stage = 'production'");
            var filter = string.Join(" or ", clauses);

            var page = await database.SearchAsync(filter);

            Assert.InRange(filter.Length, 3000, FilterParser.MaxLength);
            Assert.Equal([A3, R1], Refs(page).Order(StringComparer.Ordinal));
        }

        [Fact]
        public async Task RunsTheDeepestAllowedFilterInTheDatabase()
        {
            var depth = FilterParser.MaxDepth / 2;
            var filter = string.Concat(Enumerable.Repeat("not (", depth)) + "stage = 'production'" + new string(')', depth);

            var page = await database.SearchAsync(filter);

            Assert.Equal([A3, R1], Refs(page).Order(StringComparer.Ordinal));
        }

        [Theory]
        [InlineData(null, new[] { C2, R1, A3, C1, A2, A1 })]
        [InlineData("-created", new[] { C2, R1, A3, C1, A2, A1 })]
        [InlineData("created", new[] { A1, A2, C1, A3, R1, C2 })]
        [InlineData("version", new[] { A1, C1, R1, A2, C2, A3 })]
        [InlineData("-version", new[] { A3, C2, A2, R1, C1, A1 })]
        [InlineData("name", new[] { C1, C2, A1, A2, A3, R1 })]
        [InlineData("-name", new[] { R1, A3, A2, A1, C2, C1 })]
        [InlineData("NAME", new[] { C1, C2, A1, A2, A3, R1 })]
        [InlineData("metrics.auc", new[] { C1, A1, A2, R1, A3, C2 })]
        [InlineData("-metrics.auc", new[] { A3, R1, A2, A1, C1, C2 })]
        [InlineData("metrics.f1", new[] { R1, A1, A2, A3, C1, C2 })]
        [InlineData("-metrics.f1", new[] { R1, C2, C1, A3, A2, A1 })]
        [InlineData("metrics.`val/loss`", new[] { A2, A1, A3, C1, C2, R1 })]
        [InlineData("-metrics.val/loss", new[] { A1, A2, R1, C2, C1, A3 })]
        [InlineData("metrics.missing", new[] { A1, A2, A3, C1, C2, R1 })]
        public async Task OrdersBySortThenByIdWithMissingMetricsLast(string? sort, string[] expected)
        {
            var page = await database.SearchAsync(null, sort);

            Assert.Equal(expected, Refs(page));
        }

        [Theory]
        [InlineData(null, null, 1)]
        [InlineData(null, "created", 2)]
        [InlineData(null, "-created", 4)]
        [InlineData(null, "version", 1)]
        [InlineData(null, "-version", 2)]
        [InlineData(null, "name", 1)]
        [InlineData(null, "-name", 4)]
        [InlineData(null, "metrics.auc", 1)]
        [InlineData(null, "-metrics.auc", 2)]
        [InlineData(null, "metrics.f1", 1)]
        [InlineData(null, "-metrics.f1", 3)]
        [InlineData("tags.team is not null", "-metrics.auc", 1)]
        [InlineData("metrics.auc < 0.95 or stage = 'development'", "metrics.auc", 2)]
        [InlineData("version = 1", "name", 1)]
        public async Task PagesThroughEveryMatchExactlyOnceInOrder(string? filter, string? sort, int limit)
        {
            var all = Refs(await database.SearchAsync(filter, sort));

            var pages = await database.AllPagesAsync(filter, sort, limit);

            Assert.Equal(all, pages.SelectMany(Refs).ToList());
            Assert.All(pages, p => Assert.InRange(p.Items.Count, 0, limit));
            Assert.All(pages.SkipLast(1), p => Assert.Equal(limit, p.Items.Count));
            Assert.Equal((all.Count + limit - 1) / limit, pages.Count(p => p.Items.Count > 0));
        }

        [Fact]
        public async Task EndsWithoutACursorWhenTheLastPageIsFull()
        {
            var first = await database.SearchAsync("stage = 'production'", "version", limit: 1);
            var second = await database.SearchAsync("stage = 'production'", "version", limit: 1, cursor: first.NextCursor);

            Assert.NotNull(first.NextCursor);
            Assert.Single(second.Items);
            Assert.Null(second.NextCursor);
        }

        [Fact]
        public async Task ShowsOnlyVersionsInNamespacesTheActorMayRead()
        {
            var outsider = new Actor(2, "outsider", false, null, TokenScopes.All);
            var reader = new Actor(3, "risk-reader", false, null, TokenScopes.All);

            var none = await database.SearchAsync(null, limit: 2, actor: outsider);
            var some = await database.SearchAsync(null, actor: reader);

            Assert.Empty(none.Items);
            Assert.Null(none.NextCursor);
            Assert.NotEmpty(some.Items);
            Assert.All(some.Items, v => Assert.Equal("risk", v.Namespace));
        }

        [Fact]
        public async Task ShowsOnlyReadableVersionsWhenAFewMatchesAreLookedUp()
        {
            var reader = new Actor(3, "risk-reader", false, null, TokenScopes.All);

            // metrics.auc > 0.9 matches A2, A3 and R1 (and the hidden versions with .99): few, so looked up by the metric's index.
            var admin = await database.SearchAsync("metrics.auc > 0.9", "version");
            var some = await database.SearchAsync("metrics.auc > 0.9", "version", actor: reader);

            Assert.Equal([A2, A3, R1], Refs(admin).Order(StringComparer.Ordinal));
            Assert.Equal([R1], Refs(some));
        }

        /// <summary>The same search, sorted from a few looked-up ids (the default bound) or by walking (bound 0), gives the same pages.</summary>
        [Theory]
        [InlineData("metrics.auc > 0.8")]
        [InlineData("metrics.auc in (0.7, 0.91) or stage = 'production'")]
        [InlineData("tags.team = 'risk' and metrics.auc >= 0.85")]
        [InlineData("tags.note is not null")]
        [InlineData("name in ('churn', 'fraud-scorer')")]
        [InlineData("namespace = 'acme' and metrics.auc is null")]
        [InlineData("created >= '2026-01-05' and created < '2026-01-20'")]
        [InlineData("name = 'retired'")]
        [InlineData("metrics.f1 < 0.6 and not tags.team = 'risk'")]
        public async Task LookedUpAndWalkedSearchesPageAlike(string filter)
        {
            foreach (var sort in new[] { "-created", "version", "name", "-metrics.auc", "metrics.auc" })
            {
                foreach (var limit in new[] { 1, 2 })
                {
                    Assert.Equal(await PagesAsync(null), await PagesAsync(0));

                    async Task<List<string>> PagesAsync(int? bound)
                    {
                        var found = new List<string>();
                        string? cursor = null;
                        do
                        {
                            var page = await database.SearchAsync(filter, sort, limit, cursor, sparseBound: bound);
                            found.AddRange(Refs(page));
                            cursor = page.NextCursor;
                            Assert.True(found.Count <= 20, "paging does not end");
                        }
                        while (cursor is not null);

                        return found;
                    }
                }
            }
        }

        [Fact]
        public async Task ShowsAnonymousCallersEverythingWhenAnonymousReadIsOn()
        {
            var allowed = await database.SearchAsync("stage = 'production'", actor: Actor.Anonymous, options: new RegistryOptions { AnonymousRead = true });
            var refused = await database.SearchAsync("stage = 'production'", actor: Actor.Anonymous, options: new RegistryOptions { AnonymousRead = false });

            Assert.Equal(2, allowed.Items.Count);
            Assert.Empty(refused.Items);
        }

        [Theory]
        [InlineData("metrics.auc = 'x'", 14)]
        [InlineData("bogus > 1", 0)]
        [InlineData("name = 'a' and", 14)]
        public async Task RejectsAnInvalidFilterWithItsPosition(string filter, int position)
        {
            var error = await Assert.ThrowsAsync<RegistryException>(() => database.SearchAsync(filter));

            Assert.Equal(ErrorCodes.InvalidFilter, error.Error);
            Assert.Equal(position, error.Extensions["position"]);
        }

        [Theory]
        [InlineData("newest")]
        [InlineData("+created")]
        [InlineData("--created")]
        [InlineData("metrics")]
        [InlineData("metrics.")]
        [InlineData("metrics.auc desc")]
        [InlineData("tags.team")]
        public async Task RejectsAnUnknownSort(string sort)
        {
            var error = await Assert.ThrowsAsync<RegistryException>(() => database.SearchAsync(null, sort));

            Assert.Equal(ErrorCodes.InvalidFilter, error.Error);
            Assert.Contains("sort", error.Message, StringComparison.OrdinalIgnoreCase);
        }

        [Fact]
        public async Task RejectsACursorFromAnotherSort()
        {
            var first = await database.SearchAsync(null, "version", limit: 1);

            var error = await Assert.ThrowsAsync<RegistryException>(() => database.SearchAsync(null, "-version", limit: 1, cursor: first.NextCursor));

            Assert.Equal(ErrorCodes.InvalidCursor, error.Error);
        }

        [Theory]
        [InlineData("created")]
        [InlineData("version")]
        [InlineData("metrics.auc")]
        public async Task RejectsACursorWithAGarbledValue(string sort)
        {
            var cursor = Paging.Encode(sort, "not-a-number", 3);

            var error = await Assert.ThrowsAsync<RegistryException>(() => database.SearchAsync(null, sort, limit: 1, cursor: cursor));

            Assert.Equal(ErrorCodes.InvalidCursor, error.Error);
        }
    }
}
