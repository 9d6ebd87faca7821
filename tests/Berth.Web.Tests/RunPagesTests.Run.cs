using System.Text.RegularExpressions;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

public sealed partial class RunPagesTests
{
    private string RunPath(string id, string query = "") => $"/acme/fraud/runs/{id}{query}";

    [Fact]
    public async Task ShowsTheHeaderDetailsLineageAndOneChartPerMetric()
    {
        await using var ui = await SignedInAsync(nameof(ShowsTheHeaderDetailsLineageAndOneChartPerMetric));
        var page = ui.Page;
        await ui.VisitAsync(RunPath(runs.Baseline.Id), "run");

        await Assertions.Expect(page).ToHaveTitleAsync("baseline · Runs · acme/fraud · Berth");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("baseline");
        await Assertions.Expect(page.Locator(".breadcrumbs")).ToHaveTextAsync("ModelsacmefraudRunsbaseline");
        var meta = page.Locator(".run-meta");
        await Assertions.Expect(meta.Locator(".run-status")).ToHaveTextAsync("finished");
        await Assertions.Expect(meta).ToContainTextAsync($"Run {runs.Baseline.Id}");
        await Assertions.Expect(meta.GetByRole(AriaRole.Button, new() { Name = "Copy run id" })).ToHaveAttributeAsync("data-copy", runs.Baseline.Id);
        await Assertions.Expect(meta).ToContainTextAsync("by admin");
        await Assertions.Expect(meta).ToContainTextAsync("took");
        await Assertions.Expect(page.Locator(".chips")).ToContainTextAsync("datasetv2");

        // The note is markdown, its heading below the page's own.
        await Assertions.Expect(page.Locator(".run-note .markdown h3")).ToHaveTextAsync("Baseline");
        await Assertions.Expect(page.Locator(".run-note .markdown a[href='https://example.com/sweep']")).ToHaveAttributeAsync("rel", "nofollow noopener noreferrer");

        await Assertions.Expect(Row(page, "params-heading", "batch_size")).ToContainTextAsync("64");
        var lineage = page.Locator(".lineage");
        await Assertions.Expect(lineage.Locator("a[href='https://git.example.com/acme/fraud']")).ToBeVisibleAsync();
        await Assertions.Expect(lineage).ToContainTextAsync(RunsFixture.Commit[..12]);
        await Assertions.Expect(lineage).ToContainTextAsync("clean tree");
        await Assertions.Expect(lineage).ToContainTextAsync("s3://data/fraud/2025-10");
        await Assertions.Expect(Row(page, "environment-heading", "torch")).ToContainTextAsync("2.5.1");

        // One chart per metric, by key.
        await Assertions.Expect(page.Locator("figure.curve-chart .curve-title")).ToHaveTextAsync(["lr", "train/loss", "val/auc", "val/loss"]);
        Assert.Equal(0, await page.Locator("h3.chart-group-title").CountAsync());
        // 30 validation points are drawn as they are, with their values on hover.
        var auc = page.Locator("figure#chart-val-auc");
        await Assertions.Expect(auc.Locator("circle.curve-marker")).ToHaveCountAsync(30);
        await Assertions.Expect(auc.Locator("svg")).ToHaveAttributeAsync("aria-label", new Regex("^val/auc by step: 30 points from step 0 to 2,900; last value 0\\.[0-9]+ at step 2,900\\.$"));

        // The summary lists every series, linked to its chart.
        var summary = page.Locator("table.run-summary");
        await Assertions.Expect(summary.Locator("tbody tr")).ToHaveCountAsync(4);
        await Assertions.Expect(summary.Locator("a[href='#chart-train-loss']")).ToBeVisibleAsync();
        await Assertions.Expect(summary.Locator("tbody tr").Nth(1)).ToContainTextAsync("2,999");

        // A namespace admin may delete it.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Delete this run" })).ToBeVisibleAsync();

        // Many series are grouped by their keys' prefixes (keys without one first); a box narrows the charts.
        var admin = runs.Server.Client;
        var many = await admin.CreateRunAsync("acme", "keys", new Berth.Contracts.Dtos.CreateRunRequest("many-keys"), Ct);
        string[] keys = ["epoch", "train/acc", "train/loss", "val/acc", "val/loss", "val/f1", "gpu/memory", "gpu/util"];
        await admin.LogMetricsAsync("acme", "keys", many.Id, new Berth.Contracts.Dtos.MetricBatch(keys.SelectMany(k => Enumerable.Range(0, 5).Select(i => new Berth.Contracts.Dtos.MetricPointInput(k, i, i * 0.1))).ToList()), Ct);
        await ui.VisitAsync($"/acme/keys/runs/{many.Id}", "run-many-keys");
        await Assertions.Expect(page.Locator("h3.chart-group-title")).ToHaveTextAsync(["gpu", "train", "val"]);
        await Assertions.Expect(page.Locator("figure.curve-chart .curve-title")).ToHaveTextAsync(["epoch", "gpu/memory", "gpu/util", "train/acc", "train/loss", "val/acc", "val/f1", "val/loss"]);
        await page.GetByLabel("Charts of keys containing").FillAsync("acc");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("figure.curve-chart .curve-title")).ToHaveTextAsync(["train/acc", "val/acc"]);
        // Every series stays in the summary; those without a chart link to one.
        await Assertions.Expect(page.Locator("table.run-summary tbody tr")).ToHaveCountAsync(8);
        await page.Locator("table.run-summary a", new() { HasTextString = "gpu/util" }).ClickAsync();
        await Assertions.Expect(page.Locator("figure.curve-chart .curve-title")).ToHaveTextAsync(["gpu/util"]);
    }

    private static ILocator Row(IPage page, string heading, string name) =>
        page.Locator($"section[aria-labelledby='{heading}'] tr").Filter(new() { Has = page.Locator("th", new() { HasTextString = name }) });

    [Fact]
    public async Task TheControlsRedrawTheCurvesByTimeOnALogScaleSmoothedAndZoomed()
    {
        await using var ui = await SignedInAsync(nameof(TheControlsRedrawTheCurvesByTimeOnALogScaleSmoothedAndZoomed));
        var page = ui.Page;
        await ui.VisitAsync(RunPath(runs.Long.Id), "run-long");
        var loss = page.Locator("figure#chart-train-loss");
        var svg = loss.Locator("svg");

        // 100,000 points read as one min/max bucket per unit of the plot's width: a line and its band, no markers.
        await Assertions.Expect(svg).ToHaveAttributeAsync("aria-label", new Regex("100,000 points from step 0 to 99,999, drawn as 5[0-9]{2} min/max buckets"));
        var vertices = (await loss.Locator(".curve-line").GetAttributeAsync("points"))!.Split(' ').Length;
        Assert.InRange(vertices, 500, 528);
        await Assertions.Expect(loss.Locator(".curve-band")).ToHaveCountAsync(1);
        await Assertions.Expect(loss.Locator("circle")).ToHaveCountAsync(0);

        // By time (the run logged a step every 200 ms: 100,000 steps take 5h 33m).
        await page.GetByRole(AriaRole.Radio, new() { Name = "Time" }).CheckAsync();
        await page.WaitForURLAsync(new Regex("x=time"));
        await Assertions.Expect(svg).ToHaveAttributeAsync("data-axis", "time");
        await Assertions.Expect(loss.Locator("text.chart-tick").Last).ToHaveTextAsync(new Regex("^[0-9]+h( [0-9]+m)?$"));
        await ui.CheckAsync("run-long-by-time");

        // A log scale.
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Log scale" }).CheckAsync();
        await page.WaitForURLAsync(new Regex("scale=log"));
        await Assertions.Expect(svg).ToHaveAttributeAsync("aria-label", new Regex("on a log scale"));
        await page.GetByRole(AriaRole.Radio, new() { Name = "Step" }).CheckAsync();
        await page.WaitForURLAsync(url => !url.Contains("x=time", StringComparison.Ordinal));

        // Smoothing follows the slider at once and stays in the address.
        Assert.Equal("", await loss.Locator(".curve-smooth").GetAttributeAsync("points"));
        await page.GetByLabel("Smoothing").FillAsync("0.9");
        await Assertions.Expect(page.Locator("#smooth-value")).ToHaveTextAsync("0.90");
        await Assertions.Expect(loss.Locator(".curve-smooth")).ToHaveAttributeAsync("points", new Regex("^[0-9.]+,[0-9.]+ "));
        await Assertions.Expect(svg).ToHaveClassAsync(new Regex("smoothed"));
        Assert.Contains("smooth=0.9", page.Url, StringComparison.Ordinal);

        // Hovering reads the values out.
        var box = (await svg.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.5f), box.Y + (box.Height * 0.4f));
        await Assertions.Expect(loss.Locator(".curve-tip")).ToBeVisibleAsync();
        await Assertions.Expect(loss.Locator(".curve-tip-x")).ToContainTextAsync("step ");

        // Dragging across the plot zooms to those steps: read again, at a finer resolution.
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.3f), box.Y + (box.Height * 0.5f));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.4f), box.Y + (box.Height * 0.5f), new() { Steps = 4 });
        await page.Mouse.UpAsync();
        await page.WaitForURLAsync(new Regex("from=[0-9]+&to=[0-9]+"));
        await Assertions.Expect(svg).ToHaveAttributeAsync("aria-label", new Regex("from step 2[0-9],[0-9]{3} to 3[0-9],[0-9]{3}"));
        await Assertions.Expect(page.GetByLabel("Smoothing")).ToHaveValueAsync("0.9");
        await ui.CheckAsync("run-long-zoomed");

        // Zoomed into 201 steps, every point is drawn as it is.
        await ui.VisitAsync(RunPath(runs.Long.Id, "?from=100&to=300"), "run-long-raw");
        await Assertions.Expect(svg).ToHaveAttributeAsync("aria-label", new Regex("201 points from step 100 to 300;"));
        Assert.Equal(201, (await loss.Locator(".curve-line").GetAttributeAsync("points"))!.Split(' ').Length);
        await Assertions.Expect(loss.Locator(".curve-band")).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Link, new() { Name = "Whole range" }).ClickAsync();
        await Assertions.Expect(svg).ToHaveAttributeAsync("aria-label", new Regex("100,000 points"));

        // Ends the wrong way round: the whole range, and why.
        await ui.VisitAsync(RunPath(runs.Long.Id, "?from=500&to=100"), "run-long-bad-range");
        await Assertions.Expect(page.Locator(".hint-warning")).ToContainTextAsync("ends before it starts");
    }

    [Fact]
    public async Task WithoutJavaScriptEverySettingIsAQueryParameterAndEveryFormWorks()
    {
        await using var ui = await UiSession.OpenAsync(browser, runs.Server, nameof(WithoutJavaScriptEverySettingIsAQueryParameterAndEveryFormWorks), javaScript: false);
        await ui.SignInAsync("admin", UiUsers.Password);
        var page = ui.Page;
        await page.GotoAsync(RunPath(runs.Baseline.Id, "?x=time&scale=log&smooth=0.6&from=500&to=1500"));
        var loss = page.Locator("figure#chart-train-loss");
        await Assertions.Expect(loss.Locator("svg")).ToHaveAttributeAsync("aria-label", new Regex("^train/loss by time on a log scale: 1,001 points from step 500 to 1,500"));
        await Assertions.Expect(loss.Locator(".curve-smooth")).ToHaveAttributeAsync("points", new Regex("^[0-9.]+,[0-9.]+ "));
        await Assertions.Expect(page.GetByRole(AriaRole.Radio, new() { Name = "Time" })).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Checkbox, new() { Name = "Log scale" })).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator("input[name='from']")).ToHaveValueAsync("500");
        // The copy button needs a script: hidden, the id stays selectable.
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy run id" })).ToBeHiddenAsync();
        await ui.ScreenshotsAsync("run-without-js");

        await page.Locator("input[name='to']").FillAsync("900");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("to=900"));
        Assert.Contains("smooth=0.6", page.Url, StringComparison.Ordinal);
        Assert.Contains("x=time", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(loss.Locator("svg")).ToHaveAttributeAsync("aria-label", new Regex("401 points from step 500 to 900"));

        await page.GotoAsync("/acme/fraud/runs");
        await page.GetByLabel("Filter", new() { Exact = true }).FillAsync("status = 'failed'");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("table.runs-table tbody .run-name")).ToHaveTextAsync(["lr-0.1"]);
        await page.Locator("#compare-" + runs.Diverged.Id).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare ticked runs" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/runs/compare\\?run=" + runs.Diverged.Id));
        await Assertions.Expect(page.Locator("figure.curve-chart")).ToHaveCountAsync(4);
        await ui.ScreenshotsAsync("compare-without-js");
    }

    [Fact]
    public async Task ARunningRunsCurvesGrowWhileItLogsAndThePageSaysWhenItEnds()
    {
        var admin = runs.Server.Client;
        var run = await admin.CreateRunAsync("acme", "growing", new Berth.Contracts.Dtos.CreateRunRequest("growing"), Ct);
        await RunsFixture.LogCurvesAsync(admin, "growing", run, 50, 0.02, withValidation: false);
        await using var ui = await SignedInAsync(nameof(ARunningRunsCurvesGrowWhileItLogsAndThePageSaysWhenItEnds));
        var page = ui.Page;
        await ui.VisitAsync($"/acme/growing/runs/{run.Id}", "run-running");
        await Assertions.Expect(page.Locator(".run-meta .run-status")).ToHaveTextAsync("running");
        await Assertions.Expect(page.Locator(".run-meta")).ToContainTextAsync("last heartbeat");
        var svg = page.Locator("figure#chart-train-loss svg");
        await Assertions.Expect(svg).ToHaveAttributeAsync("aria-label", new Regex(": 50 points"));

        // The page re-reads itself every 5 s while the run runs.
        await RunsFixture.LogCurvesAsync(admin, "growing", run, 150, 0.02, withValidation: false, first: 50);
        await Assertions.Expect(svg).ToHaveAttributeAsync("aria-label", new Regex(": 200 points"), new() { Timeout = 30_000 });

        await admin.FinishRunAsync("acme", "growing", run.Id, cancellationToken: Ct);
        await Assertions.Expect(page.Locator(".run-meta .run-status")).ToHaveTextAsync("finished", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-refresh]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator(".run-live-hint")).ToHaveCountAsync(0);
        await ui.CheckAsync("run-ended-while-watched");
    }
}
