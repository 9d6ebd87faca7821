using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>The model page: card, versions, chart, policy, history, retention, webhooks, and its write actions.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ModelPageTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<UiSession> SignedInAsync(string test, string user = "admin")
    {
        var ui = await UiSession.OpenAsync(browser, catalog.Server, test);
        await ui.SignInAsync(user, UiUsers.Password);
        return ui;
    }

    [Fact]
    public async Task ShowsTheCardVersionsChartPolicyHistoryAndRetention()
    {
        await using var ui = await SignedInAsync(nameof(ShowsTheCardVersionsChartPolicyHistoryAndRetention));
        await ui.VisitAsync("/acme/fraud-detector", "model");
        var page = ui.Page;

        // The card: markdown, its heading one level below the page's.
        await Assertions.Expect(page.Locator(".markdown h2")).ToHaveTextAsync("Fraud detector");
        await Assertions.Expect(page.Locator(".markdown table")).ToContainTextAsync("0.95");
        await Assertions.Expect(page.Locator(".markdown a[href='https://example.com/runbook']")).ToHaveAttributeAsync("rel", "nofollow noopener noreferrer");

        // Versions, newest first, with stage, alias and the metric columns.
        var rows = page.Locator("table.versions-table tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(3);
        await Assertions.Expect(rows.Nth(0)).ToContainTextAsync("v3");
        await Assertions.Expect(rows.Nth(0).Locator(".alias")).ToContainTextAsync("champion");
        await Assertions.Expect(rows.Nth(1).Locator(".stage-production")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("table.versions-table thead")).ToContainTextAsync("auc");
        await Assertions.Expect(rows.Nth(0)).ToContainTextAsync("0.95");

        // The chart of auc across versions: one point per version, the values also in a table.
        await Assertions.Expect(page.Locator("figure.chart svg circle")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("figure.chart svg circle title").First).ToHaveTextAsync("v1: auc = 0.91");

        await Assertions.Expect(page.Locator(".policy-list")).ToContainTextAsync("production");
        await Assertions.Expect(page.Locator(".timeline")).ToContainTextAsync("moved version 2 to");
        await Assertions.Expect(page.Locator(".timeline")).ToContainTextAsync("best so far");
        await Assertions.Expect(page.GetByText("No retention policy")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Webhooks" })).ToBeVisibleAsync();

        // Other metric columns and another chart, by query.
        await ui.VisitAsync("/acme/fraud-detector?metrics=f1&chart=f1", "model-f1");
        await Assertions.Expect(page.Locator("table.versions-table thead")).Not.ToContainTextAsync("auc");
        await Assertions.Expect(page.Locator("figure.chart svg circle title").Last).ToHaveTextAsync("v3: f1 = 0.85");
    }

    [Fact]
    public async Task MarkdownWithScriptsAndJavascriptLinksRendersInert()
    {
        await using var ui = await SignedInAsync(nameof(MarkdownWithScriptsAndJavascriptLinksRendersInert));
        var dialogs = 0;
        ui.Page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await ui.VisitAsync("/research/xss-card", "model-hostile-card");

        var card = ui.Page.Locator(".markdown");
        await Assertions.Expect(card).ToContainTextAsync("<script>window.__xss = 1;");
        Assert.Equal(0, await card.Locator("script, img, iframe, [onerror]").CountAsync());
        Assert.Equal(0, await ui.Page.Locator("a[href^='javascript' i]").CountAsync());
        await Assertions.Expect(card).ToContainTextAsync("click me");
        Assert.Null(await ui.Page.EvaluateAsync<int?>("() => window.__xss"));
        Assert.Equal(0, dialogs);
    }

    [Fact]
    public async Task AReaderSeesNoWriteActionAndAForgedPostIsRefusedAndChangesNothing()
    {
        await using var ui = await SignedInAsync(nameof(AReaderSeesNoWriteActionAndAForgedPostIsRefusedAndChangesNothing), "rita");
        await ui.VisitAsync("/acme/fraud-detector", "model-as-reader");
        Assert.Equal(0, await ui.Page.GetByText("Edit the model card").CountAsync());
        Assert.Equal(0, await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Delete model" }).CountAsync());
        Assert.Equal(0, await ui.Page.Locator("main form[method='post']").CountAsync());

        // A post without the anti-forgery token: 400, nothing changed.
        var forged = await ui.Page.APIRequest.PostAsync("/acme/fraud-detector", new()
        {
            Form = ui.Page.APIRequest.CreateFormData().Set("_handler", "edit-model").Set("Edit.Description", "pwned"),
        });
        Assert.Equal(400, forged.Status);

        // With a valid token taken from the page (the sign-out form's), the reader still cannot edit: refused as the API
        // would refuse it, naming the role needed.
        var token = await ui.Page.Locator("input[name='_csrf']").First.GetAttributeAsync("value");
        var withToken = await ui.Page.APIRequest.PostAsync("/acme/fraud-detector", new()
        {
            Form = ui.Page.APIRequest.CreateFormData().Set("_handler", "edit-model").Set("_csrf", token!).Set("Edit.Description", "pwned"),
        });
        Assert.Equal(403, withToken.Status);
        Assert.Contains("this needs the writer role", await withToken.TextAsync(), StringComparison.Ordinal);

        var model = await catalog.Server.Client.GetModelAsync("acme", "fraud-detector", Ct);
        Assert.Equal(CatalogFixture.FraudCard, model.Description);
    }

    [Fact]
    public async Task AWriterEditsTheCardAndTheNextPageSaysSo()
    {
        await using var ui = await SignedInAsync(nameof(AWriterEditsTheCardAndTheNextPageSaysSo), "walt");
        await ui.VisitAsync("/acme/churn", "model-as-writer");
        Assert.Equal(0, await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Delete model" }).CountAsync());
        await ui.Page.GetByText("Edit the model card and tags").ClickAsync();
        await ui.Page.GetByLabel("Model card (markdown)").FillAsync("Predicts churn. **Retrained** weekly.");
        await ui.Page.GetByLabel("Tags, one key=value per line").FillAsync("team=growth\ncadence=weekly");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Assertions.Expect(ui.Page.Locator(".flash-success")).ToHaveTextAsync("Saved the model card.");
        await Assertions.Expect(ui.Page.Locator(".markdown strong")).ToHaveTextAsync("Retrained");
        await ui.CheckAsync("model-after-edit");
        var model = await catalog.Server.Client.GetModelAsync("acme", "churn", Ct);
        Assert.Equal("weekly", model.Tags["cadence"]);

        // The edit was audited as walt (the same service and audit as the API's PATCH).
        await ui.Page.ReloadAsync();
        Assert.Equal(0, await ui.Page.Locator(".flash-success").CountAsync());
    }

    [Fact]
    public async Task AnAdministratorDeletesAModelAfterTypingItsName()
    {
        await using var ui = await SignedInAsync(nameof(AnAdministratorDeletesAModelAfterTypingItsName));
        using (var folder = new ModelFolder())
        {
            folder.Write("w.bin", 16, seed: 7);
            await catalog.Server.Client.PushAsync(folder.Root, "acme", "doomed", new Berth.Client.Transfers.PushOptions(), cancellationToken: Ct);
        }

        await ui.VisitAsync("/acme/doomed", "model-as-admin");
        await ui.Page.GetByLabel("Type acme/doomed to confirm").FillAsync("acme/wrong");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Delete model" }).ClickAsync();
        await Assertions.Expect(ui.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Type acme/doomed exactly");
        await ui.Page.GetByLabel("Type acme/doomed to confirm").FillAsync("acme/doomed");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Delete model" }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.EndsWith("/acme", StringComparison.Ordinal));
        await Assertions.Expect(ui.Page.Locator(".flash-success")).ToHaveTextAsync("Deleted acme/doomed.");
        await ui.VisitAsync("/acme/doomed", "model-deleted", 404);
    }
}
