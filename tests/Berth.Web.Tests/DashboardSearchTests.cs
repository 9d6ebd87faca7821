using System.Net;
using System.Text.RegularExpressions;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Core.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Web.Tests;

/// <summary>
/// The dashboard's searches, sparse and dense, page by page through the page's own "Next page" links: a search that matches
/// at most <see cref="SearchOptions.SparseBound"/> models (30 here; a page shows 25) sorts them from their ids, one that
/// matches more walks the sort's index; both show every match once, in order, and a typo shows "No model matches.".
/// </summary>
public sealed partial class DashboardSearchTests(DashboardSearchTests.Haystack haystack) : IClassFixture<DashboardSearchTests.Haystack>
{
    private const int Models = 40;
    private const int Needles = 28;

    public static TheoryData<string, string, int[]> Searches() => new()
    {
        { "needle", "", Newest(Enumerable.Range(0, Needles)) }, // words in 28 descriptions: sparse
        { "needle", "name", Enumerable.Range(0, Needles).ToArray() },
        { "needle hay", "-name", Enumerable.Range(0, Needles).Reverse().ToArray() }, // two words: the longer decides
        { "hay", "", Newest(Enumerable.Range(0, Models)) }, // in every description: dense
        { "nedle", "", [] }, // a typo
        { "team-b", "name", Enumerable.Range(Needles, Models - Needles).ToArray() }, // a tag's value
        { "metrics.auc < 0.28", "", Newest(Enumerable.Range(0, Needles)) }, // 28 versions: sparse
        { "metrics.auc < 0.28", "name", Enumerable.Range(0, Needles).ToArray() },
        { "metrics.auc >= 0", "name", Enumerable.Range(0, Models).ToArray() }, // 40: dense
        { "tags.team = 'b' and metrics.auc > 0.3", "", Newest(Enumerable.Range(31, Models - 31)) },
        { "params.optimizer = 'adam'", "", Newest(Enumerable.Range(0, Models)) }, // nothing to look up: the walk
        { "metrics.acu > 0.5", "", [] }, // a typo
        { "name = 'm-07'", "", [7] },
    };

    [Theory]
    [MemberData(nameof(Searches))]
    public async Task EveryMatchAppearsOnceInOrderAcrossPages(string q, string sort, int[] expected)
    {
        var ct = TestContext.Current.CancellationToken;
        var url = "/?q=" + Uri.EscapeDataString(q) + (sort.Length > 0 ? "&sort=" + Uri.EscapeDataString(sort) : "");
        var found = new List<string>();
        var pages = 0;
        while (url is not null)
        {
            using var response = await haystack.Server.Http.GetAsync(url, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync(ct);
            var names = ModelLink().Matches(html).Select(m => m.Groups[1].Value).ToList();
            Assert.True(names.Count <= 25, $"{names.Count} models on one page");
            found.AddRange(names);
            if (names.Count == 0)
            {
                Assert.Contains("No model matches.", html, StringComparison.Ordinal);
            }

            var next = NextLink().Match(html);
            url = next.Success ? WebUtility.HtmlDecode(next.Groups[1].Value) : null;
            Assert.True(++pages <= 5, "paging does not end");
        }

        Assert.Equal(expected.Select(i => $"hay/m-{i:00}"), found);
        Assert.Equal(Math.Max(1, (expected.Length + 24) / 25), pages);
    }

    /// <summary>Most recently updated first: the models were pushed in order.</summary>
    private static int[] Newest(IEnumerable<int> models) => models.Reverse().ToArray();

    [GeneratedRegex("<h3 class=\"model-name\"[^>]*>\\s*<a href=\"/([^\"]+)\"")]
    private static partial Regex ModelLink();

    [GeneratedRegex("<a class=\"button button-small\" href=\"([^\"]+)\" rel=\"next\"")]
    private static partial Regex NextLink();

    /// <summary>
    /// A server whose sparse bound is 30, with hay/m-00 … m-39, pushed in that order, each with one version (auc = i / 100,
    /// optimizer adam): the first 28 have "needle" in their description and the tag team=a, the others team=b.
    /// </summary>
    public sealed class Haystack : IAsyncLifetime
    {
        private TestServer? _server;

        public TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

        public async ValueTask InitializeAsync()
        {
            var ct = TestContext.Current.CancellationToken;
            _server = await TestServer.StartAsync(services => services.Configure<SearchOptions>(o => o.SparseBound = 30));
            await _server.CreateNamespaceAsync("hay");
            using var folder = new ModelFolder(("m.bin", 10));
            for (var i = 0; i < Models; i++)
            {
                var needle = i < Needles;
                await _server.Client.CreateModelAsync("hay", new CreateModelRequest(
                    $"m-{i:00}", needle ? "A needle in the hay." : "Only hay.", new Dictionary<string, string> { ["team"] = needle ? "team-a" : "team-b" }), ct);
            }

            for (var i = 0; i < Models; i++)
            {
                await _server.Client.PushAsync(folder.Root, "hay", $"m-{i:00}", new PushOptions
                {
                    Metrics = new Dictionary<string, double> { ["auc"] = i / 100.0 },
                    Params = new Dictionary<string, string> { ["optimizer"] = "adam" },
                    Tags = new Dictionary<string, string> { ["team"] = i < Needles ? "a" : "b" },
                }, cancellationToken: ct);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }
}
