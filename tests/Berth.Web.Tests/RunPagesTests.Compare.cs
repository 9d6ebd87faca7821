using System.Text.RegularExpressions;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

public sealed partial class RunPagesTests
{
    [Fact]
    public async Task TickedRunsAreComparedCurveOverCurveWithTheirSummaryAndParams()
    {
        await using var ui = await SignedInAsync(nameof(TickedRunsAreComparedCurveOverCurveWithTheirSummaryAndParams));
        var page = ui.Page;
        await ui.VisitAsync("/acme/fraud/runs?sort=name", "runs-by-name");
        foreach (var run in new[] { runs.Baseline, runs.Child, runs.Diverged })
        {
            await page.Locator("#compare-" + run.Id).CheckAsync();
        }

        await Assertions.Expect(page.Locator("[data-compare-button]")).ToHaveTextAsync("Compare 3 ticked runs");
        await page.Locator("[data-compare-button]").ClickAsync();
        await page.WaitForURLAsync(new Regex("/acme/fraud/runs/compare\\?run="));
        await ui.CheckAsync("compare-runs");
        await Assertions.Expect(page).ToHaveTitleAsync("Compare runs · acme/fraud · Berth");

        // The legend: one colour per run, the first the baseline.
        var legend = page.Locator("table.run-legend tbody tr");
        await Assertions.Expect(legend).ToHaveCountAsync(3);
        await Assertions.Expect(legend.Nth(0)).ToContainTextAsync("baseline");
        await Assertions.Expect(legend.Nth(0)).ToHaveClassAsync("run-c0");

        // A chart per metric the runs share, a curve per run, each in its own colour — in both themes.
        await Assertions.Expect(page.Locator("figure.curve-chart .curve-title")).ToHaveTextAsync(["lr", "train/loss", "val/auc", "val/loss"]);
        var curves = page.Locator("figure#chart-val-auc g.curve");
        await Assertions.Expect(curves).ToHaveCountAsync(3);
        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            await page.EmulateMediaAsync(new() { ColorScheme = scheme });
            var strokes = await curves.Locator(".curve-line").EvaluateAllAsync<string[]>("lines => lines.map(l => getComputedStyle(l).stroke)");
            Assert.Equal(3, strokes.Distinct().Count());
        }

        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await Assertions.Expect(page.Locator("figure#chart-val-auc svg")).ToHaveAttributeAsync("aria-label", new Regex("^val/auc of 3 runs by step: baseline 30 points, last 0\\.[0-9]+; lr-0.03 30 points"));

        // Summary metrics: the best of each marked (higher for an AUC, lower for a loss), the differences to the baseline.
        var auc = page.Locator("table.metrics-compare tr").Filter(new() { Has = page.Locator("th", new() { HasTextString = "val/auc" }) });
        await Assertions.Expect(auc.Locator("td.best")).ToHaveCountAsync(1);
        await Assertions.Expect(auc.Locator("td").Nth(1)).ToHaveClassAsync(new Regex("best"));
        await Assertions.Expect(auc.Locator("td").Nth(1).Locator(".diff")).ToHaveTextAsync(new Regex("^\\+0\\.1"));
        var loss = page.Locator("table.metrics-compare tr").Filter(new() { Has = page.Locator("th", new() { HasTextString = "train/loss" }) });
        await Assertions.Expect(loss.Locator(".direction")).ToHaveTextAsync("lower is better");
        await loss.Locator(".direction").ClickAsync();
        await Assertions.Expect(loss.Locator(".direction")).ToHaveTextAsync("higher is better");
        Assert.Contains("higher=train", Uri.UnescapeDataString(page.Url), StringComparison.Ordinal);
        // The minimum of each series instead of its last value (the diverged run's NaN at the end is no minimum).
        await page.GetByRole(AriaRole.Link, new() { Name = "min", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator(".segmented a[aria-current]")).ToHaveTextAsync("min");
        await Assertions.Expect(loss.Locator("td").Nth(2).Locator(".value")).ToHaveTextAsync(new Regex("^0\\.[0-9]+$"));

        // Params: those that differ first; the identical ones behind "Show all".
        await Assertions.Expect(page.Locator("table.params-differing tbody th .break")).ToHaveTextAsync(["epochs", "lr"]);
        await Assertions.Expect(page.Locator("table.params-all")).ToBeHiddenAsync();
        await page.GetByText("Show all params").ClickAsync();
        await Assertions.Expect(page.Locator("table.params-all tbody th .break")).ToHaveTextAsync(["batch_size", "epochs", "lr", "optimizer"]);
        await ui.CheckAsync("compare-runs-min");

        // A run leaves the comparison; the settings stay.
        await legend.Nth(2).GetByRole(AriaRole.Link, new() { Name = "Remove lr-0.1 from the comparison" }).ClickAsync();
        await Assertions.Expect(legend).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator(".segmented a[aria-current]")).ToHaveTextAsync("min");
    }

    [Fact]
    public async Task TwentyRunsGetTwentyColoursAndTheComparisonRefusesMoreUnknownAndNone()
    {
        await using var ui = await SignedInAsync(nameof(TwentyRunsGetTwentyColoursAndTheComparisonRefusesMoreUnknownAndNone));
        var page = ui.Page;
        var sweep = new List<string>();
        await foreach (var run in runs.Server.Client.ListRunsAsync("acme", "sweep", sort: "metrics.score", cancellationToken: Ct))
        {
            sweep.Add(run.Id);
        }

        var twenty = string.Join('&', sweep.Take(20).Select(id => "run=" + id));
        await ui.VisitAsync("/acme/sweep/runs/compare?" + twenty + "&x=time", "compare-twenty");
        var curves = page.Locator("figure#chart-score g.curve");
        await Assertions.Expect(curves).ToHaveCountAsync(20);
        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            await page.EmulateMediaAsync(new() { ColorScheme = scheme });
            var styles = await curves.Locator(".curve-line").EvaluateAllAsync<string[]>("lines => lines.map(l => getComputedStyle(l).stroke + ' ' + getComputedStyle(l).strokeDasharray)");
            Assert.Equal(20, styles.Distinct().Count());
        }

        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await ui.VisitAsync("/acme/sweep/runs/compare?" + string.Join('&', sweep.Take(21).Select(id => "run=" + id)), "compare-too-many", 400);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("at most 20 runs");
        await ui.VisitAsync($"/acme/fraud/runs/compare?run={runs.Baseline.Id}&run=aaaaaaaaaaaa", "compare-unknown-run", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("'acme/fraud' has no run 'aaaaaaaaaaaa'");
        // A run of another model is not one of this model's.
        await ui.VisitAsync($"/acme/fraud/runs/compare?run={sweep[0]}", "compare-other-model", 404);
        await ui.VisitAsync("/acme/nothing/runs/compare?run=aaaaaaaaaaaa", "compare-unknown-model", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("Model 'acme/nothing' does not exist");
        await ui.VisitAsync("/acme/fraud/runs/compare", "compare-none");
        await Assertions.Expect(page.Locator(".empty-state")).ToContainTextAsync("Pick runs to compare.");
    }
}
