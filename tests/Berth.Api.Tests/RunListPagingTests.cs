using System.Net.Http.Json;
using Berth.Api.Tests.Support;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;

namespace Berth.Api.Tests;

/// <summary>Listing a model's runs page by page in the default order (newest first) and oldest first: every run once, in order.</summary>
public sealed class RunListPagingTests
{
    [Theory]
    [InlineData("")]
    [InlineData("&sort=created")]
    public async Task PagesByStartTimeReachEveryRunOnce(string sort)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await TestServer.StartAsync();
        var started = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            started.Add((await server.Client.CreateRunAsync("paging", "model", new CreateRunRequest($"run-{i}"), ct)).Id);
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = (await server.Http.GetFromJsonAsync($"/api/v1/models/paging/model/runs?limit=2{sort}{(cursor is null ? "" : "&cursor=" + cursor)}", BerthJsonContext.Default.PageRunInfo, ct))!;
            seen.AddRange(page.Items.Select(r => r.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null && seen.Count < 10);

        Assert.Equal(sort.Length == 0 ? Enumerable.Reverse(started) : started, seen);
    }
}
