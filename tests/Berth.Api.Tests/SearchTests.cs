using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;

namespace Berth.Api.Tests;

public sealed class SearchTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SearchFindsVersionsByMetricsAndTagsAcrossModels()
    {
        using var model = new ModelFolder(("m.bin", 100));
        await Push("fraud", 0.931, "risk");
        await Push("fraud", 0.85, "risk");
        await Push("churn", 0.95, "growth");
        await Push("scoring", 0.97, "risk");

        var found = await Server.Client.SearchAsync("metrics.auc > 0.9 and tags.team = \"risk\"", "-metrics.auc", Ct).ToListAsync(Ct);
        Assert.Equal(["finder/scoring:1", "finder/fraud:1"], found.Select(v => v.Reference));

        var page = await Server.Client.SearchPageAsync("name like 'f%'", "version", limit: 1, cancellationToken: Ct);
        Assert.Single(page.Items);
        Assert.NotNull(page.NextCursor);

        async Task Push(string name, double auc, string team) =>
            await Server.Client.PushAsync(model.Root, "finder", name, new PushOptions
            {
                Metrics = new Dictionary<string, double> { ["auc"] = auc },
                Tags = new Dictionary<string, string> { ["team"] = team },
                AllowUnchanged = true, // the same files with other metrics: a version each
            }, cancellationToken: Ct);
    }

    /// <summary>
    /// Names sort by their bytes on every database, whatever its locale: a linguistic collation (ICU,
    /// en_US) would put '_' before '-' and '.', and punctuation before digits.
    /// </summary>
    [Fact]
    public async Task SortingByNameFollowsTheBytesOfTheNamesPageByPage()
    {
        using var model = new ModelFolder(("m.bin", 10));
        string[] names = ["ab_x", "ab0", "ab.x", "ab-x"];
        foreach (var name in names)
        {
            await Server.Client.PushAsync(model.Root, "bytes", name, new PushOptions(), cancellationToken: Ct);
        }

        var ordinal = names.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["ab-x", "ab.x", "ab0", "ab_x"], ordinal);
        var all = await Server.Client.SearchAsync("namespace = 'bytes'", "name", Ct).ToListAsync(Ct);
        Assert.Equal(ordinal, all.Select(v => v.Model));

        var pages = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Server.Client.SearchPageAsync("namespace = 'bytes'", "-name", limit: 1, cursor: cursor, cancellationToken: Ct);
            pages.AddRange(page.Items.Select(v => v.Model));
            cursor = page.NextCursor;
        }
        while (cursor is not null && pages.Count < 10);

        Assert.Equal(ordinal.AsEnumerable().Reverse(), pages);
    }

    [Fact]
    public async Task AnInvalidFilterPointsAtTheError()
    {
        using var response = await Server.Http.GetAsync("/api/v1/search?q=" + Uri.EscapeDataString("metrics.auc > 'high'"), Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_filter");
        Assert.Equal(14, problem.GetProperty("position").GetInt32());
    }
}
