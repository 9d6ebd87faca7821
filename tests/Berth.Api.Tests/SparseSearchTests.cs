using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Core.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// A search that matches at most <see cref="SearchOptions.SparseBound"/> versions (3 here) sorts them from their ids; one
/// that matches more, or has no condition an index can look up, walks the sort's index. Both give every match once, in the
/// sort's order, page after page through cursors; a filter that matches nothing gives one empty page.
/// </summary>
public sealed class SparseSearchTests(SparseSearchTests.Registry registry) : IClassFixture<SparseSearchTests.Registry>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("metrics.auc > 0.55")] // 3 versions: sparse, found through the metric's index
    [InlineData("name = 'beta' and metrics.auc > 0.65")] // the name reaches 4 versions (too many to decide), the metric 2
    [InlineData("tags.team = 'blue' and metrics.auc < 0.35")] // 1 of the 4 blue versions
    [InlineData("namespace = 'probe' and version = 2")] // the namespace reaches 8: no index decides, the walk
    [InlineData("metrics.auc > 0.15")] // 7 versions: dense, the walk
    [InlineData("params.optimizer = 'adam'")] // no index to ask: the walk
    [InlineData("metrics.acu > 0.5")] // a typo: nothing
    [InlineData("tags.team = 'nobody'")]
    public async Task SparseAndDenseMatchesPageAlikeThroughCursors(string filter)
    {
        var matching = registry.Pushed.Where(v => filter switch
        {
            "metrics.auc > 0.55" => v.Auc > 0.55,
            "name = 'beta' and metrics.auc > 0.65" => v.Model == "beta" && v.Auc > 0.65,
            "tags.team = 'blue' and metrics.auc < 0.35" => v.Team == "blue" && v.Auc < 0.35,
            "namespace = 'probe' and version = 2" => v.Number == 2,
            "metrics.auc > 0.15" => v.Auc > 0.15,
            "params.optimizer = 'adam'" => true,
            _ => false,
        }).ToList();
        var orders = new Dictionary<string, IEnumerable<Pushed>>
        {
            ["-created"] = matching.OrderByDescending(v => v.Order),
            ["version"] = matching.OrderBy(v => v.Number).ThenBy(v => v.Order),
            ["-name"] = matching.OrderByDescending(v => v.Model, StringComparer.Ordinal).ThenByDescending(v => v.Order),
            ["-metrics.auc"] = matching.OrderByDescending(v => v.Auc).ThenByDescending(v => v.Order),
            ["metrics.auc"] = matching.OrderBy(v => v.Auc).ThenBy(v => v.Order),
        };
        foreach (var (sort, order) in orders)
        {
            foreach (var limit in new[] { 1, 2, 50 })
            {
                var found = new List<string>();
                string? cursor = null;
                var pages = 0;
                do
                {
                    var page = await registry.Server.Client.SearchPageAsync(filter, sort, limit, cursor, Ct);
                    Assert.True(page.Items.Count <= limit);
                    found.AddRange(page.Items.Select(v => v.Reference));
                    cursor = page.NextCursor;
                    Assert.True(++pages <= 10, "paging does not end");
                }
                while (cursor is not null);

                Assert.True(order.Select(v => $"probe/{v.Model}:{v.Number}").SequenceEqual(found),
                    $"{filter}, sort {sort}, limit {limit}: [{string.Join(", ", found)}]");
            }
        }
    }

    public sealed record Pushed(string Model, int Number, double Auc, string Team, int Order);

    /// <summary>A server whose sparse bound is 3, with 8 versions of probe/alpha and probe/beta (auc 0.1 … 0.8, in push order).</summary>
    public sealed class Registry : IAsyncLifetime
    {
        private TestServer? _server;

        public TestServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

        public List<Pushed> Pushed { get; } = [];

        public async ValueTask InitializeAsync()
        {
            _server = await TestServer.StartAsync(services => services.Configure<SearchOptions>(o => o.SparseBound = 3));
            using var model = new ModelFolder(("m.bin", 10));
            for (var i = 1; i <= 8; i++)
            {
                var name = i % 2 == 0 ? "alpha" : "beta";
                var team = i <= 4 ? "blue" : "red";
                var result = await _server.Client.PushAsync(model.Root, "probe", name, new PushOptions
                {
                    Metrics = new Dictionary<string, double> { ["auc"] = i / 10.0 },
                    Params = new Dictionary<string, string> { ["optimizer"] = "adam" },
                    Tags = new Dictionary<string, string> { ["team"] = team },
                    AllowUnchanged = true,
                }, cancellationToken: TestContext.Current.CancellationToken);
                Pushed.Add(new Pushed(name, result.Version.Number, i / 10.0, team, i));
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
