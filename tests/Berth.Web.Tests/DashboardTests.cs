using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>The models dashboard: every readable model, found by words or a filter, narrowed by namespace, stage and tag.</summary>
[Trait("Database", "both")]
[Collection(BrowserCollection.Name)]
public sealed class DashboardTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    private async Task<UiSession> SignedInAsync(string test, string user = "admin")
    {
        var ui = await UiSession.OpenAsync(browser, catalog.Server, test);
        await ui.SignInAsync(user, UiUsers.Password);
        return ui;
    }

    private static async Task<List<string>> ModelNamesAsync(IPage page) =>
        (await page.Locator(".model-name a").AllInnerTextsAsync()).Select(t => t.Replace(" ", "", StringComparison.Ordinal).Trim()).ToList();

    [Fact]
    public async Task ListsEachModelWithItsLatestVersionStagesAliasesAndRecentActivity()
    {
        await using var ui = await SignedInAsync(nameof(ListsEachModelWithItsLatestVersionStagesAliasesAndRecentActivity));
        await ui.VisitAsync("/", "dashboard");

        Assert.Equal(["research/xss-card", "acme/churn", "acme/fraud-detector"], await ModelNamesAsync(ui.Page));
        var fraud = ui.Page.Locator(".model-row").Filter(new() { HasText = "fraud-detector" });
        await Assertions.Expect(fraud).ToContainTextAsync("v3 · 1.2.0");
        await Assertions.Expect(fraud.Locator(".stage-production")).ToContainTextAsync("1");
        await Assertions.Expect(fraud.Locator(".alias")).ToContainTextAsync("champion");
        await Assertions.Expect(fraud).ToContainTextAsync("Catches card fraud in real time");
        await Assertions.Expect(fraud.Locator(".model-by")).ToHaveTextAsync("admin");

        var activity = ui.Page.Locator(".activity");
        await Assertions.Expect(activity).ToContainTextAsync("pushed");
        await Assertions.Expect(activity.Locator(".activity-stage-changed")).ToContainTextAsync("production");
        await activity.Locator(".activity-stage-changed a", new() { HasText = "version 2" }).ClickAsync();
        Assert.EndsWith("/acme/fraud-detector/versions/2", ui.Page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlainWordsFindAModelByItsCard()
    {
        await using var ui = await SignedInAsync(nameof(PlainWordsFindAModelByItsCard));
        await ui.VisitAsync("/", "dashboard-before-search");
        await ui.Page.GetByRole(AriaRole.Searchbox, new() { Name = "Search models" }).FillAsync("card fraud");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.Contains("q=card+fraud", StringComparison.Ordinal) || url.Contains("q=card%20fraud", StringComparison.Ordinal));
        await Assertions.Expect(ui.Page.Locator(".model-row")).ToHaveCountAsync(1);
        Assert.Equal(["acme/fraud-detector"], await ModelNamesAsync(ui.Page));
        await ui.CheckAsync("dashboard-search-words");
    }

    [Fact]
    public async Task AFilterExpressionFindsModelsByTheirVersions()
    {
        await using var ui = await SignedInAsync(nameof(AFilterExpressionFindsModelsByTheirVersions));
        await ui.VisitAsync("/?q=" + Uri.EscapeDataString("metrics.auc >= 0.94 and namespace = 'acme'"), "dashboard-search-filter");
        Assert.Equal(["acme/fraud-detector"], await ModelNamesAsync(ui.Page));
        await Assertions.Expect(ui.Page.GetByText("Read as a filter")).ToBeVisibleAsync();

        // Something that looks like a filter but does not parse is searched as words, and the page says why.
        await ui.VisitAsync("/?q=" + Uri.EscapeDataString("metrics.auc >= "), "dashboard-search-broken-filter");
        await Assertions.Expect(ui.Page.GetByText("As a filter it does not parse")).ToBeVisibleAsync();
        await Assertions.Expect(ui.Page.GetByText("No model matches.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task FiltersNarrowByNamespaceStageAndTagAndSortByAMetric()
    {
        await using var ui = await SignedInAsync(nameof(FiltersNarrowByNamespaceStageAndTagAndSortByAMetric));
        await ui.VisitAsync("/?stage=production", "dashboard-stage");
        Assert.Equal(["acme/fraud-detector"], await ModelNamesAsync(ui.Page));
        await ui.VisitAsync("/?tag=team%3Dgrowth", "dashboard-tag");
        Assert.Equal(["acme/churn"], await ModelNamesAsync(ui.Page));
        await ui.VisitAsync("/?ns=research", "dashboard-namespace");
        Assert.Equal(["research/xss-card"], await ModelNamesAsync(ui.Page));
        await ui.VisitAsync("/?sort=metric&metric=auc", "dashboard-sort-metric");
        Assert.Equal(["acme/fraud-detector", "acme/churn", "research/xss-card"], await ModelNamesAsync(ui.Page));
        await Assertions.Expect(ui.Page.Locator(".model-metric").First).ToContainTextAsync("0.95");
    }

    [Fact]
    public async Task AReaderSeesOnlyTheNamespacesTheyMayRead()
    {
        await using var ui = await SignedInAsync(nameof(AReaderSeesOnlyTheNamespacesTheyMayRead), "rita");
        await ui.VisitAsync("/", "dashboard-reader");
        Assert.Equal(["acme/churn", "acme/fraud-detector"], await ModelNamesAsync(ui.Page));
        // A namespace the viewer may not read answers exactly like one that does not exist (as in the API).
        await ui.VisitAsync("/research", "namespace-hidden", 404);
        await Assertions.Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        await Assertions.Expect(ui.Page.Locator(".error-message")).ToContainTextAsync("Namespace 'research' does not exist, or you have no role in it.");
        await ui.VisitAsync("/research/xss-card", "model-hidden", 404);
        await Assertions.Expect(ui.Page.Locator(".error-message")).ToContainTextAsync("Namespace 'research' does not exist, or you have no role in it.");
    }

    [Fact]
    public async Task TheNamespacePageListsItsModelsAndActivity()
    {
        await using var ui = await SignedInAsync(nameof(TheNamespacePageListsItsModelsAndActivity));
        await ui.VisitAsync("/acme", "namespace");
        Assert.Equal(["churn", "fraud-detector"], await ModelNamesAsync(ui.Page));
        await Assertions.Expect(ui.Page.Locator(".breadcrumbs")).ToContainTextAsync("Models");
        await ui.VisitAsync("/no-such-space", "namespace-missing", 404);
        await Assertions.Expect(ui.Page.Locator(".error-message")).ToContainTextAsync("no-such-space");
    }
}
