using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Berth.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>
/// The audit log page: server administrators find an earlier action by filters, follow its target, verify the chain and
/// export the entries; everyone else sees no link to it, gets 403 naming the role, and anonymous visitors sign in first.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AuditPageTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task PushAsync(TestServer server, string ns, string model)
    {
        using var folder = new ModelFolder();
        folder.Write("model.bin", 64, seed: Random.Shared.Next());
        await server.Client.PushAsync(folder.Root, ns, model, new PushOptions(), cancellationToken: Ct);
    }

    [Fact]
    public async Task AnAdministratorFiltersTheLogToAnEarlierPromotionFollowsItsTargetVerifiesTheChainAndExportsIt()
    {
        await catalog.Server.CreateNamespaceAsync("ledger");
        await PushAsync(catalog.Server, "ledger", "scorer");
        await catalog.Server.Client.ChangeStageAsync(ModelReference.Parse("ledger/scorer:1"), "staging", "ready for shadow traffic", cancellationToken: Ct);
        const string test = nameof(AnAdministratorFiltersTheLogToAnEarlierPromotionFollowsItsTargetVerifiesTheChainAndExportsIt);

        await using var ui = await UiSession.OpenAsync(browser, catalog.Server, test);
        await ui.SignInAsync("admin", UiUsers.Password);
        await ui.Page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Audit" }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.EndsWith("/audit", StringComparison.Ordinal));
        await ui.CheckAsync("audit");
        await Assertions.Expect(ui.Page.Locator(".audit-table tbody tr").Nth(1)).ToContainTextAsync("user.sign_in");

        await ui.Page.GetByLabel("Actor").FillAsync("admin");
        await ui.Page.GetByLabel("Action").FillAsync("stage");
        await ui.Page.GetByLabel("Namespace").FillAsync("ledger");
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await ui.Page.GetByLabel("From (UTC)").FillAsync(today);
        await ui.Page.GetByLabel("To (UTC, inclusive)").FillAsync(today);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.Contains("action=stage", StringComparison.Ordinal));
        await ui.CheckAsync("audit-filtered");
        var rows = ui.Page.Locator(".audit-table tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows).ToContainTextAsync("stage.change");
        await Assertions.Expect(rows).ToContainTextAsync("admin");
        await Assertions.Expect(rows).ToContainTextAsync("ready for shadow traffic");
        var requestId = await rows.Locator(".audit-request code").TextContentAsync();
        Assert.False(string.IsNullOrWhiteSpace(requestId));

        // The same filters through the API's export, with the session cookie.
        var export = await ui.Page.APIRequest.GetAsync(await ui.Page.GetByRole(AriaRole.Link, new() { Name = "Export as JSON lines" }).GetAttributeAsync("href") ?? "");
        Assert.Equal(200, export.Status);
        var lines = (await export.TextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.Contains("\"action\":\"stage.change\"", line, StringComparison.Ordinal);
        Assert.Contains(requestId!, line, StringComparison.Ordinal);

        // Yesterday's log has none of it.
        var yesterday = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await ui.VisitAsync($"/audit?ns=ledger&until={yesterday}", "audit-empty");
        await Assertions.Expect(ui.Page.Locator(".empty-state")).ToContainTextAsync("No entry matches these filters.");

        await ui.Page.GoBackAsync();
        await ui.Page.GetByRole(AriaRole.Link, new() { Name = "ledger/scorer:1" }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.EndsWith("/ledger/scorer/versions/1", StringComparison.Ordinal));

        await ui.VisitAsync("/audit", "audit-again");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator("[data-verification]")).ToContainTextAsync("Intact: all");
        Assert.Equal("intact", await ui.Page.Locator("[data-verification]").GetAttributeAsync("data-verification"));
        await ui.CheckAsync("audit-verified");
    }

    [Fact]
    public async Task AChangedEntryIsReportedByVerifyNowAndATargetThatNoLongerExistsIsPlainText()
    {
        await using var server = await TestServer.StartAsync();
        await server.SetAdminPasswordAsync();
        await server.CreateNamespaceAsync("gone");
        await PushAsync(server, "gone", "model");
        await server.Client.DeleteModelAsync("gone", "model", cancellationToken: Ct);
        var victim = await ScalarAsync(server, "SELECT MIN(id) FROM audit_log WHERE action = 'model.create'");
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            Assert.Equal(1, await db.Database.ExecuteSqlAsync($"UPDATE audit_log SET actor = 'mallory' WHERE id = {victim}", Ct));
        }

        const string test = nameof(AChangedEntryIsReportedByVerifyNowAndATargetThatNoLongerExistsIsPlainText);
        await using var ui = await UiSession.OpenAsync(browser, server, test);
        await ui.SignInAsync("admin", UiUsers.Password);
        await ui.VisitAsync("/audit?action=model", "audit-deleted-target");
        await Assertions.Expect(ui.Page.Locator(".audit-table tbody tr")).ToHaveCountAsync(2);
        Assert.Equal(0, await ui.Page.Locator(".audit-table a", new() { HasText = "gone/model" }).CountAsync());
        await Assertions.Expect(ui.Page.Locator(".audit-table")).ToContainTextAsync("model.delete");

        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
        var result = ui.Page.Locator("[data-verification]");
        await Assertions.Expect(result).ToContainTextAsync($"Broken at entry #{victim}: entry {victim} was changed");
        Assert.Equal("broken", await result.GetAttributeAsync("data-verification"));
        await ui.CheckAsync("audit-broken");
    }

    [Fact]
    public async Task OthersSeeNoLinkAndGetForbiddenAndAnonymousVisitorsAreSentToSignIn()
    {
        const string test = nameof(OthersSeeNoLinkAndGetForbiddenAndAnonymousVisitorsAreSentToSignIn);
        await using (var anonymous = await UiSession.OpenAsync(browser, catalog.Server, test + "-anonymous"))
        {
            await anonymous.Page.GotoAsync("/audit");
            await anonymous.Page.WaitForURLAsync(url => url.Contains("/signin?return=%2Faudit", StringComparison.Ordinal));
        }

        await using var walt = await UiSession.OpenAsync(browser, catalog.Server, test + "-walt");
        await walt.SignInAsync("walt", UiUsers.Password);
        Assert.Equal(0, await walt.Page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Audit" }).CountAsync());
        await walt.VisitAsync("/audit", "audit-as-writer", 403);
        await Assertions.Expect(walt.Page.Locator("main")).ToContainTextAsync("Only server administrators may read the audit log");
        Assert.Equal(0, await walt.Page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).CountAsync());

        // A forged "verify now" is refused before it runs, like the API's.
        var token = await walt.Page.Locator("input[name='_csrf']").First.GetAttributeAsync("value");
        var forged = await walt.Page.APIRequest.PostAsync("/audit", new()
        {
            Form = walt.Page.APIRequest.CreateFormData().Set("_handler", "verify-audit").Set("_csrf", token!),
        });
        Assert.Equal(403, forged.Status);
        Assert.DoesNotContain("Intact", await forged.TextAsync(), StringComparison.Ordinal);
        var export = await walt.Page.APIRequest.GetAsync("/api/v1/audit/export");
        Assert.Equal(403, export.Status);
    }

    private static async Task<long> ScalarAsync(TestServer server, string sql)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        return await db.Database.SqlQueryRaw<long>(sql.Replace("SELECT MIN(id)", "SELECT MIN(id) AS \"Value\"", StringComparison.Ordinal)).SingleAsync(Ct);
    }
}
