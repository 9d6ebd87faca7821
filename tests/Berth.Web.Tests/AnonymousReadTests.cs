using Berth.Api.Tests.Support;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>With --anonymous-read, visitors browse read-only without signing in.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AnonymousReadTests(BrowserFixture browser) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync("--anonymous-read", "true");
        await _server.CreateNamespaceAsync("open");
        using var folder = new ModelFolder();
        folder.Write("w.bin", 16, seed: 3);
        await _server.Client.PushAsync(folder.Root, "open", "public-model", new Berth.Client.Transfers.PushOptions(), cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AnonymousVisitorsBrowseButSeeNoWriteAction()
    {
        await using var ui = await UiSession.OpenAsync(browser, _server, nameof(AnonymousVisitorsBrowseButSeeNoWriteAction));
        await ui.VisitAsync("/", "dashboard-anonymous");
        await Assertions.Expect(ui.Page.Locator(".model-row")).ToContainTextAsync("public-model");
        await Assertions.Expect(ui.Page.GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await ui.VisitAsync("/open/public-model", "model-anonymous");
        Assert.Equal(0, await ui.Page.Locator("main form[method='post']").CountAsync());
        await ui.VisitAsync("/open/public-model/versions/1", "version-anonymous");
        await Assertions.Expect(ui.Page.Locator("table.files-table")).ToContainTextAsync("w.bin");
        Assert.Equal(0, await ui.Page.Locator("main form[method='post']").CountAsync());
        await ui.VisitAsync("/compare?v=open/public-model:1&v=open/public-model:latest", "compare-anonymous");

        // Acting needs a person: the inbox asks to sign in, and a forged post is refused.
        await ui.Page.GotoAsync("/requests");
        Assert.Contains("/signin?return=%2Frequests", ui.Page.Url, StringComparison.Ordinal);
        var token = await ui.Page.Locator("input[name='_csrf']").First.GetAttributeAsync("value");
        var forged = await ui.Page.APIRequest.PostAsync("/open/public-model/versions/1", new()
        {
            Form = ui.Page.APIRequest.CreateFormData().Set("_handler", "stage").Set("_csrf", token!).Set("Stage.Target", "production"),
        });
        Assert.Equal(401, forged.Status);
        Assert.Null((await _server.Client.GetVersionAsync(Berth.Contracts.Naming.ModelReference.Parse("open/public-model:1"), cancellationToken: TestContext.Current.CancellationToken)).Stage);
    }
}
