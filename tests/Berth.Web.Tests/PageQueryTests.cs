using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Core.Registry;
using Berth.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Web.Tests;

/// <summary>
/// What the model lists ask the database: a bounded number of queries whatever the number of namespaces, and (on
/// SQLite, whose planner has no statistics to go by) the per-model details of a page read through the models' versions,
/// not by walking every version by its state.
/// </summary>
[Trait("Database", "both")]
public sealed class PageQueryTests
{
    private const int NamespaceCount = 40;

    [Fact]
    public async Task TheDashboardReadsItsNamespacePickerInOneQueryNotOnePerNamespace()
    {
        using var commands = new CommandRecorder();
        await using var server = await StartWithNamespacesAsync();
        commands.Watch(server);

        var html = await server.Http.GetStringAsync("/", TestContext.Current.CancellationToken);

        Assert.Contains($"<option value=\"ns-{NamespaceCount - 1:00}\">", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/ns-00/model\"", html, StringComparison.Ordinal);
        Assert.NotEmpty(commands.Texts);
        Assert.True(commands.Texts.Count < NamespaceCount, $"the dashboard ran {commands.Texts.Count} queries for {NamespaceCount} namespaces");
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/?q=metrics.auc+%3E%3D+0.5+and+stage+%3D+%27production%27")]
    [InlineData("/ns-00")]
    [InlineData("/ns-00/model")]
    public async Task TheVersionCountsAndLatestVersionsOfAListedPageAreReadByModelNotByWalkingEveryVersion(string path)
    {
        using var commands = new CommandRecorder();
        await using var server = await StartWithNamespacesAsync();
        commands.Watch(server);

        await server.Http.GetStringAsync(path, TestContext.Current.CancellationToken);

        var overVersions = commands.Executed.Where(c => c.Text.Contains("FROM \"versions\" AS \"v\"", StringComparison.Ordinal) &&
                                                        c.Text.Contains("\"v\".\"model_id\" IN (", StringComparison.Ordinal)).ToList();
        if (TestDatabase.IsPostgres)
        {
            return; // PostgreSQL plans from statistics, which a tiny test database does not have: its plans say nothing here.
        }

        Assert.NotEmpty(overVersions);

        foreach (var (text, plan) in await PlansAsync(server, overVersions))
        {
            Assert.False(plan.Any(l => l.Contains("ix_versions_state_created_at", StringComparison.Ordinal) || l.StartsWith("SCAN v ", StringComparison.Ordinal) || l == "SCAN v"),
                $"{text}\nis planned as\n{string.Join('\n', plan)}");
        }
    }

    /// <summary>
    /// A search that matches few models (here one, or none) must not walk every model in the sort's order testing each (on
    /// 100,000 models, 0.5 to 2 s): a filter looks its matches up through an index (SparseMatches), plain words scan the
    /// names, descriptions and tags once without an order, and the page is sorted from the ids found. (On SQLite, whose
    /// planner has no statistics, the plans here are the plans at any size.)
    /// </summary>
    [Theory]
    [InlineData("/?q=metrics.auc+%3E+0.5")]
    [InlineData("/?q=metrics.auc+%3E+0.5&sort=name")]
    [InlineData("/?q=metrics.acu+%3E+0.5")]
    [InlineData("/?q=tags.team+%3D+%27nobody%27+and+stage+%3D+%27production%27")]
    [InlineData("/?q=name+%3D+%27model%27")]
    [InlineData("/?q=modle")]
    [InlineData("/?q=model&sort=name")]
    public async Task ASparseSearchLooksUpItsFewMatchesInsteadOfWalkingEveryModel(string path)
    {
        using var commands = new CommandRecorder();
        // A bound of one model makes this tiny registry take the paths of a large one (below the bound a walk is right).
        await using var server = await StartWithNamespacesAsync(services => services.Configure<SearchOptions>(o => o.SparseBound = 1));
        commands.Watch(server);

        await server.Http.GetStringAsync(path, TestContext.Current.CancellationToken);

        if (TestDatabase.IsPostgres)
        {
            return; // PostgreSQL plans from statistics, which a tiny test database does not have: its plans say nothing here.
        }

        var words = !path.Contains("q=metrics", StringComparison.Ordinal) && !path.Contains("q=tags", StringComparison.Ordinal) && !path.Contains("q=name", StringComparison.Ordinal);
        // The edge of the sort's window (LIMIT 1 OFFSET the bound) reads at most the bound's index entries: not a walk.
        var selects = commands.Executed.Where(c => c.Text.TrimStart().StartsWith("SELECT", StringComparison.Ordinal));
        var plans = (await PlansAsync(server, selects)).Where(p => !p.Text.Contains("LIMIT 1 OFFSET", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(plans);
        foreach (var (text, plan) in plans)
        {
            Assert.False(plan.Any(l => Walks(l, words)), $"{text}\nis planned as\n{string.Join('\n', plan)}");
        }
    }

    /// <summary>
    /// A walk: the models in the order of a sort's index, unbounded (a search of the index for a value, or within the
    /// window up to its edge, is not one), or every ready version by state. Plain words do read the names once, through
    /// the index that covers them, in no particular order.
    /// </summary>
    private static bool Walks(string line, bool words) =>
        (line.Contains("ix_models_updated_at_id", StringComparison.Ordinal) || line.Contains("ix_models_name_id", StringComparison.Ordinal))
            && !line.Contains("=?)", StringComparison.Ordinal) && !line.Contains("<?)", StringComparison.Ordinal) && !line.Contains(">?)", StringComparison.Ordinal)
            && !(words && line.StartsWith("SCAN m USING COVERING INDEX ix_models_name_id", StringComparison.Ordinal))
        || line.Contains("ix_versions_state_created_at (state=?)", StringComparison.Ordinal);

    /// <summary>SQLite's plan of each command, run with its parameters.</summary>
    private static async Task<List<(string Text, List<string> Plan)>> PlansAsync(TestServer server, IEnumerable<(string Text, IReadOnlyList<(string Name, object Value)> Parameters)> commands)
    {
        var plans = new List<(string, List<string>)>();
        await using var connection = server.Database.CreateConnection();
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        foreach (var (text, parameters) in commands)
        {
            await using var explain = connection.CreateCommand();
            explain.CommandText = "EXPLAIN QUERY PLAN " + text;
            foreach (var (name, value) in parameters)
            {
                var p = explain.CreateParameter();
                p.ParameterName = name;
                p.Value = value;
                explain.Parameters.Add(p);
            }

            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync(TestContext.Current.CancellationToken))
            {
                while (await reader.ReadAsync(TestContext.Current.CancellationToken))
                {
                    plan.Add(reader.GetString(3));
                }
            }

            plans.Add((text, plan));
        }

        return plans;
    }

    /// <summary>A server with <see cref="NamespaceCount"/> namespaces, ns-00/model's one version in production with auc 0.9.</summary>
    private static async Task<TestServer> StartWithNamespacesAsync(Action<IServiceCollection>? services = null)
    {
        var ct = TestContext.Current.CancellationToken;
        var server = await TestServer.StartAsync(services);
        for (var i = 0; i < NamespaceCount; i++)
        {
            await server.CreateNamespaceAsync($"ns-{i:00}");
        }

        using var folder = new ModelFolder();
        folder.Write("model.bin", 64, seed: 1);
        await server.Client.PushAsync(folder.Root, "ns-00", "model", new PushOptions { Metrics = new Dictionary<string, double> { ["auc"] = 0.9 } }, cancellationToken: ct);
        await server.Client.ChangeStageAsync(Berth.Contracts.Naming.ModelReference.Parse("ns-00/model:1"), "production", "test", cancellationToken: ct);
        return server;
    }
}
