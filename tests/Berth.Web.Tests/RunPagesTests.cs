using System.Net;
using System.Text.RegularExpressions;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>
/// The run pages on one seeded server (<see cref="RunsFixture"/>): the model's Runs tab (this file), a run's page
/// (RunPagesTests.Run.cs), the run comparison (RunPagesTests.Compare.cs) and who may see and do what (RunPagesTests.Access.cs).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class RunPagesTests(BrowserFixture browser, RunsFixture runs) : IClassFixture<RunsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<UiSession> SignedInAsync(string test, string user = "admin")
    {
        var ui = await UiSession.OpenAsync(browser, runs.Server, test);
        await ui.SignInAsync(user, UiUsers.Password);
        return ui;
    }

    private static Task<IReadOnlyList<string>> TextsAsync(ILocator locator) => locator.AllInnerTextsAsync().ContinueWith(t => (IReadOnlyList<string>)t.Result.Select(s => Regex.Replace(s, "\\s+", " ").Trim()).ToList(), TaskScheduler.Default);

    [Fact]
    public async Task TheRunsTabListsRunsWithColumnsThatTellThemApartSortsAndPages()
    {
        await using var ui = await SignedInAsync(nameof(TheRunsTabListsRunsWithColumnsThatTellThemApartSortsAndPages));
        var page = ui.Page;
        await ui.VisitAsync("/acme/fraud", "model-with-runs-tab");
        var tab = page.Locator("nav.tabs a", new() { HasTextString = "Runs" });
        await Assertions.Expect(tab.Locator(".tab-count")).ToHaveTextAsync("7");
        await tab.ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/acme/fraud/runs", StringComparison.Ordinal));
        await ui.CheckAsync("runs");
        await Assertions.Expect(page).ToHaveTitleAsync("Runs · acme/fraud · Berth");
        await Assertions.Expect(page.Locator("nav.tabs a[aria-current='page']")).ToContainTextAsync("Runs");

        // Newest first; an unnamed run shows its id.
        var rows = page.Locator("table.runs-table tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(7);
        await Assertions.Expect(rows.Nth(0).Locator(".run-name")).ToHaveTextAsync("live");
        await Assertions.Expect(rows.Nth(0).Locator(".run-status")).ToHaveTextAsync("running");
        await Assertions.Expect(rows.Nth(1).Locator(".run-name")).ToHaveTextAsync(runs.Unnamed.Id);
        await Assertions.Expect(rows.Nth(1).Locator("td").Nth(2)).ToHaveTextAsync("admin");

        // Default columns: the metrics most runs have, and the params whose values differ.
        Assert.Equal(["batch_size", "epochs", "lr", "optimizer", "lr", "train/loss", "val/auc", "val/loss"],
            await TextsAsync(page.Locator("table.runs-table thead tr:last-child :is(th.col-param, th.col-metric) .break")));
        await Assertions.Expect(page.Locator("table.runs-table thead .runs-groups")).ToHaveTextAsync(new Regex("Params\\s*Metrics"));

        // A metric's header sorts best first: higher for an AUC …
        await page.Locator("th.col-metric a", new() { HasTextString = "val/auc" }).ClickAsync();
        await Assertions.Expect(page.Locator("th[aria-sort='descending']")).ToContainTextAsync("val/auc");
        Assert.Equal(["lr-0.03", "baseline", "wide-batch", runs.Unnamed.Id, "lr-0.1"], (await TextsAsync(rows.Locator(".run-name"))).Take(5));
        await page.Locator("th.col-metric a", new() { HasTextString = "val/auc" }).ClickAsync();
        await Assertions.Expect(page.Locator("th[aria-sort='ascending']")).ToContainTextAsync("val/auc");
        Assert.Equal(["lr-0.1", runs.Unnamed.Id, "wide-batch", "baseline", "lr-0.03"], (await TextsAsync(rows.Locator(".run-name"))).Take(5));
        // … lower for a loss; runs without the metric come last.
        await page.Locator("th.col-metric a", new() { HasTextString = "val/loss" }).ClickAsync();
        await Assertions.Expect(page.Locator("th[aria-sort='ascending']")).ToContainTextAsync("val/loss");
        await ui.CheckAsync("runs-sorted");

        // The viewer picks the columns; paging and sorting keep them.
        await page.Locator(".columns-picker summary").ClickAsync();
        var ticked = page.Locator(".columns-picker input[type='checkbox']:checked");
        while (await ticked.CountAsync() > 0)
        {
            await ticked.First.UncheckAsync();
        }

        await page.Locator(".columns-picker input[name='metric'][value='train/loss']").CheckAsync();
        await page.GetByLabel("Other param names").FillAsync("optimizer");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show these columns" }).ClickAsync();
        await Assertions.Expect(page.Locator("table.runs-table thead tr:last-child :is(th.col-param, th.col-metric) .break")).ToHaveTextAsync(["optimizer", "train/loss"]);
        await page.Locator("th a", new() { HasTextString = "Started" }).ClickAsync();
        await Assertions.Expect(page.Locator("table.runs-table thead tr:last-child th.col-metric .break")).ToHaveTextAsync(["train/loss"]);
        await ui.CheckAsync("runs-picked-columns");

        // 60 runs: 50 a page, keyset-paged.
        await ui.VisitAsync("/acme/sweep/runs", "runs-page-1");
        await Assertions.Expect(rows).ToHaveCountAsync(50);
        await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(10);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Next page" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "First page" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AFilterNarrowsTheRunsAndABadOneIsExplainedBesideIt()
    {
        await using var ui = await SignedInAsync(nameof(AFilterNarrowsTheRunsAndABadOneIsExplainedBesideIt), "rita");
        var page = ui.Page;
        await ui.VisitAsync("/acme/fraud/runs", "runs-as-reader");
        await page.GetByLabel("Filter", new() { Exact = true }).FillAsync("params.lr < 0.05 and metrics.val/auc > 0.6 and status = \"finished\"");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("table.runs-table tbody .run-name")).ToHaveTextAsync(["lr-0.03", "baseline"]);
        await ui.CheckAsync("runs-filtered");
        // Sorting keeps the filter.
        await page.Locator("th.col-metric a", new() { HasTextString = "val/auc" }).ClickAsync();
        await Assertions.Expect(page.Locator("table.runs-table tbody .run-name")).ToHaveTextAsync(["lr-0.03", "baseline"]);
        await Assertions.Expect(page.GetByLabel("Filter", new() { Exact = true })).ToHaveValueAsync("params.lr < 0.05 and metrics.val/auc > 0.6 and status = \"finished\"");

        // Nothing matches: said so, with a way back.
        await ui.VisitAsync("/acme/fraud/runs?filter=" + Uri.EscapeDataString("tags.dataset = 'v9'"), "runs-no-match");
        await Assertions.Expect(page.Locator(".empty-state")).ToContainTextAsync("No run matches.");

        // A filter that does not parse: 400, the reason beside the box, the spot marked, the text kept.
        await ui.VisitAsync("/acme/fraud/runs?filter=" + Uri.EscapeDataString("params.lr < and status = 'finished'"), "runs-bad-filter", 400);
        await Assertions.Expect(page.Locator("#filter-error")).ToContainTextAsync("position 12");
        await Assertions.Expect(page.Locator("#filter-error mark")).ToHaveTextAsync("a");
        await Assertions.Expect(page.GetByLabel("Filter", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.GetByLabel("Filter", new() { Exact = true })).ToHaveValueAsync("params.lr < and status = 'finished'");
        Assert.Equal(0, await page.Locator("table.runs-table").CountAsync());

        await ui.VisitAsync("/acme/fraud/runs?filter=" + Uri.EscapeDataString("status = 'sleeping'"), "runs-bad-status", 400);
        await Assertions.Expect(page.Locator("#filter-error")).ToContainTextAsync("sleeping");
        await ui.VisitAsync("/acme/fraud/runs?sort=banana", "runs-bad-sort", 400);
        await Assertions.Expect(page.Locator("#filter-error")).ToContainTextAsync("Runs sort by created, name, user, metrics.<key> or params.<key>");
        await ui.VisitAsync("/acme/fraud/runs?cursor=nonsense", "runs-bad-cursor", 400);
        await Assertions.Expect(page.Locator("#filter-error")).ToContainTextAsync("cursor");

        // An example from the help is a link that filters.
        await page.Locator(".filter-help summary").ClickAsync();
        await page.Locator(".filter-help a", new() { HasTextString = "status = \"running\"" }).ClickAsync();
        await Assertions.Expect(page.Locator("table.runs-table tbody .run-name")).ToHaveTextAsync(["live"]);
    }

    [Theory]
    [InlineData("params.lr")]
    [InlineData("-params.lr")]
    [InlineData("name")]
    [InlineData("-name")]
    [InlineData("user")]
    [InlineData("metrics.score")]
    [InlineData("-created")]
    [InlineData("")]
    public async Task EverySortPagesThroughEveryRunOnceInOrder(string sort)
    {
        var seen = new List<(string Id, string Name)>();
        var url = "/acme/sweep/runs?columns=1&param=lr&sort=" + Uri.EscapeDataString(sort);
        for (var pages = 0; url is not null && pages < 5; pages++)
        {
            using var response = await runs.Server.Http.GetAsync(url, Ct);
            var html = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {Regex.Match(html, "<div id=\"filter-error\"[^>]*>\\s*<p>([^<]*)").Groups[1].Value}");
            seen.AddRange(Regex.Matches(html, "href=\"/acme/sweep/runs/([a-z2-7]{12})\" class=\"run-name[^\"]*\">([^<]+)<").Select(m => (m.Groups[1].Value, m.Groups[2].Value)));
            var next = Regex.Match(html, "href=\"([^\"]+)\" rel=\"next\"");
            url = next.Success ? WebUtility.HtmlDecode(next.Groups[1].Value) : null;
        }

        Assert.Equal(60, seen.Count);
        Assert.Equal(60, seen.Select(s => s.Id).Distinct().Count());
        var named = seen.Where(s => s.Name.StartsWith("sweep-", StringComparison.Ordinal)).Select(s => s.Name).ToList();
        switch (sort)
        {
            case "params.lr":
                // Numbers ascending (sweep-49 has the smallest lr), then the texts ("auto"), then the runs without lr.
                Assert.Equal(Enumerable.Range(0, 50).Select(i => $"sweep-{49 - i:00}"), named);
                Assert.True(seen.Take(50).All(s => s.Name.StartsWith("sweep-", StringComparison.Ordinal)));
                break;
            case "-params.lr":
                Assert.Equal(Enumerable.Range(0, 50).Select(i => $"sweep-{i:00}"), named);
                break;
            case "name":
                Assert.Equal(Enumerable.Range(0, 50).Select(i => $"sweep-{i:00}"), seen.Take(50).Select(s => s.Name));
                break;
            case "-name":
                Assert.Equal(Enumerable.Range(0, 50).Select(i => $"sweep-{49 - i:00}"), seen.Take(50).Select(s => s.Name));
                break;
            case "metrics.score":
                Assert.Equal(Enumerable.Range(0, 50).Select(i => $"sweep-{i:00}"), named);
                break;
        }
    }

    [Fact]
    public async Task APageOfRunsCostsTheSameQueriesWhateverItsSize()
    {
        // Warm up (first-use caches), then count: 50 runs of the sweep, then 10 of them.
        var ten = "/acme/sweep/runs?filter=" + Uri.EscapeDataString("name like 'sweep-0%'");
        await runs.Server.Http.GetStringAsync("/acme/sweep/runs", Ct);
        await runs.Server.Http.GetStringAsync(ten, Ct);
        runs.Commands.Watch(runs.Server);
        var html = await runs.Server.Http.GetStringAsync("/acme/sweep/runs", Ct);
        var fifty = runs.Commands.Texts.Count;
        Assert.Equal(50, Regex.Matches(html, "class=\"run-name").Count);
        runs.Commands.Watch(runs.Server);
        html = await runs.Server.Http.GetStringAsync(ten, Ct);
        var few = runs.Commands.Texts.Count;
        Assert.Equal(10, Regex.Matches(html, "class=\"run-name").Count);
        Assert.True(fifty > 0);
        Assert.True(fifty == few, $"50 runs took {fifty} queries, 10 runs {few}");
        Assert.True(fifty <= 20, $"a page of runs took {fifty} queries:\n{string.Join("\n---\n", runs.Commands.Texts)}");

        // A run's page: its run, then a bounded read per chart (4 charts here).
        runs.Commands.Watch(runs.Server);
        await runs.Server.Http.GetStringAsync($"/acme/fraud/runs/{runs.Baseline.Id}", Ct);
        var runPage = runs.Commands.Texts.Count;
        Assert.True(runPage <= 20 + (4 * 6), $"a run's page with 4 charts took {runPage} queries");
    }
}
