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
        Assert.Equal(["search/scoring:1", "search/fraud:1"], found.Select(v => v.Reference));

        var page = await Server.Client.SearchPageAsync("name like 'f%'", "version", limit: 1, cancellationToken: Ct);
        Assert.Single(page.Items);
        Assert.NotNull(page.NextCursor);

        async Task Push(string name, double auc, string team) =>
            await Server.Client.PushAsync(model.Root, "search", name, new PushOptions
            {
                Metrics = new Dictionary<string, double> { ["auc"] = auc },
                Tags = new Dictionary<string, string> { ["team"] = team },
            }, cancellationToken: Ct);
    }

    [Fact]
    public async Task AnInvalidFilterPointsAtTheError()
    {
        using var response = await Server.Http.GetAsync("/api/v1/search?q=" + Uri.EscapeDataString("metrics.auc > 'high'"), Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_filter");
        Assert.Equal(14, problem.GetProperty("position").GetInt32());
    }
}
