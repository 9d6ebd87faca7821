using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>The compare page: 2–10 versions side by side, reached by ticking versions on a model page.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CompareTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    private async Task<UiSession> SignedInAsync(string test, string user = "admin")
    {
        var ui = await UiSession.OpenAsync(browser, catalog.Server, test);
        await ui.SignInAsync(user, UiUsers.Password);
        return ui;
    }

    /// <summary>The texts of the elements, without any whitespace (markup may put some between inline pieces).</summary>
    private static async Task<List<string>> TextsAsync(ILocator locator) =>
        (await locator.AllTextContentsAsync()).Select(t => string.Concat(t.Where(c => !char.IsWhiteSpace(c)))).ToList();

    private static ILocator Row(IPage page, string table, string name) =>
        page.Locator($"table.{table} tbody tr").Filter(new() { Has = page.Locator("th", new() { HasText = name }) });

    [Fact]
    public async Task TickingTwoVersionsOnTheModelPageComparesMetricsParamsAndFiles()
    {
        await using var ui = await SignedInAsync(nameof(TickingTwoVersionsOnTheModelPageComparesMetricsParamsAndFiles), "rita");
        var page = ui.Page;
        await ui.VisitAsync("/acme/fraud-detector", "model-compare-ticks");
        await page.GetByLabel("Compare v3").CheckAsync();
        await page.GetByLabel("Compare v1").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare ticked versions" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/compare?v=", StringComparison.Ordinal));
        Assert.Contains("v=acme%2Ffraud-detector%3A3&v=acme%2Ffraud-detector%3A1", page.Url, StringComparison.Ordinal);
        await ui.CheckAsync("compare");

        // Versions of one model: oldest first, the first the baseline.
        Assert.Equal(["Metric", "v1baseline", "v3"], await TextsAsync(page.Locator("table.metrics-compare thead th")));

        // auc: higher is better by default; v3's 0.95 is the best, 0.04 above the baseline.
        var auc = Row(page, "metrics-compare", "auc");
        await Assertions.Expect(auc.Locator("td.best")).ToHaveCountAsync(1);
        await Assertions.Expect(auc.Locator("td.best")).ToContainTextAsync("0.95");
        await Assertions.Expect(auc.Locator("td").Nth(1)).ToContainTextAsync("+0.04");
        await Assertions.Expect(auc.Locator("td.best")).ToContainTextAsync("(best)");

        // Parameters: lr differs, epochs does not.
        await Assertions.Expect(Row(page, "params-compare", "lr")).ToHaveClassAsync("differs");
        await Assertions.Expect(Row(page, "params-compare", "epochs")).Not.ToHaveClassAsync("differs");
        await Assertions.Expect(page.Locator(".compare-summary").First).ToContainTextAsync("1 parameter differs");

        // Files by digest against the baseline: model.bin changed, tokenizer.json added, config/params.json identical.
        await Assertions.Expect(Row(page, "files-compare", "model.bin").Locator(".change-changed")).ToBeVisibleAsync();
        await Assertions.Expect(Row(page, "files-compare", "tokenizer.json").Locator(".change-added")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("table.files-compare")).Not.ToContainTextAsync("config/params.json");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("1 file is identical in every version");

        // One chart per metric, the best bar named in its accessible name.
        await Assertions.Expect(page.Locator("figure.bar-chart")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("figure.bar-chart svg").First).ToHaveAttributeAsync("aria-label", "auc, higher is better: v1 0.91, v3 0.95 (best)");

        // Flipping auc to "lower is better" makes the baseline's 0.91 the best.
        await auc.GetByRole(AriaRole.Link, new() { Name = "higher is better" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("lower=auc", StringComparison.Ordinal));
        await Assertions.Expect(Row(page, "metrics-compare", "auc").Locator("td.best")).ToContainTextAsync("0.91");
        await Assertions.Expect(Row(page, "metrics-compare", "auc").GetByRole(AriaRole.Link, new() { Name = "lower is better" })).ToBeVisibleAsync();
        await ui.CheckAsync("compare-lower-is-better");
    }

    [Fact]
    public async Task VersionsOfDifferentModelsCompareWithAMissingMetricShownAsMissing()
    {
        await using var ui = await SignedInAsync(nameof(VersionsOfDifferentModelsCompareWithAMissingMetricShownAsMissing));
        var page = ui.Page;
        await ui.VisitAsync("/compare?v=acme/churn:latest&v=acme/fraud-detector:production&v=research/xss-card:1", "compare-models");
        Assert.Equal(["Metric", "acme/churnv1baseline", "acme/fraud-detectorv2", "research/xss-cardv1"], await TextsAsync(page.Locator("table.metrics-compare thead th")));
        var f1 = Row(page, "metrics-compare", "f1");
        Assert.Equal(["—novalue", "0.83", "—novalue"], await TextsAsync(f1.Locator("td")));
        // One value is no contest: nothing is marked best.
        await Assertions.Expect(f1.Locator("td.best")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("figure.bar-chart svg").Nth(1)).ToHaveAttributeAsync("aria-label", "f1, higher is better: acme/churn v1 no value, acme/fraud-detector v2 0.83, research/xss-card v1 no value");
    }

    [Fact]
    public async Task TooFewTooManyUnknownAndHiddenVersionsAreExplained()
    {
        await using var ui = await SignedInAsync(nameof(TooFewTooManyUnknownAndHiddenVersionsAreExplained), "rita");
        var page = ui.Page;
        await ui.VisitAsync("/compare", "compare-empty");
        await Assertions.Expect(page.Locator(".empty-state")).ToContainTextAsync("Pick at least two versions");
        await page.GetByLabel("Baseline").FillAsync("acme/fraud-detector:1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare", Exact = true }).ClickAsync();
        await page.GetByLabel("Version 2").FillAsync("acme/churn:1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("table.metrics-compare")).ToBeVisibleAsync();

        await ui.VisitAsync("/compare?v=acme/fraud-detector:1&v=acme/fraud-detector:9", "compare-unknown", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("Cannot compare acme/fraud-detector:9");
        await ui.VisitAsync("/compare?v=fraud-detector:1&v=acme/churn:1", "compare-no-namespace", 400);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("names no namespace");
        var eleven = string.Join('&', Enumerable.Range(1, 11).Select(i => $"v=acme/fraud-detector:{i}"));
        await ui.VisitAsync("/compare?" + eleven, "compare-too-many", 400);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("at most 10 versions");

        // A namespace the reader may not see answers as if it did not exist.
        await ui.VisitAsync("/compare?v=acme/churn:1&v=research/xss-card:1", "compare-hidden", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("Namespace 'research' does not exist, or you have no role in it.");
    }
}
