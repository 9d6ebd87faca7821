using System.Security.Cryptography;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>
/// The version page: everything known about a version, its files as downloads, and the actions of its viewer (stage,
/// aliases, description and tags, requests, deletion), each through the same services and audit as the API.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class VersionPageTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<UiSession> SignedInAsync(string test, string user = "admin")
    {
        var ui = await UiSession.OpenAsync(browser, catalog.Server, test);
        await ui.SignInAsync(user, UiUsers.Password);
        return ui;
    }

    /// <summary>A model of its own for a test that changes things (so the tests of this class stay independent).</summary>
    private async Task PushAsync(string model, int versions = 1)
    {
        for (var i = 0; i < versions; i++)
        {
            using var folder = new ModelFolder();
            folder.Write("weights.bin", 48, seed: Random.Shared.Next());
            await catalog.Server.Client.PushAsync(folder.Root, "acme", model, new PushOptions { Metrics = new Dictionary<string, double> { ["auc"] = 0.8 + (i / 100.0) } }, cancellationToken: Ct);
        }
    }

    [Fact]
    public async Task OpeningAVersionFromTheModelPageShowsItsFilesMetricsParamsLineageAndCommands()
    {
        await using var ui = await SignedInAsync(nameof(OpeningAVersionFromTheModelPageShowsItsFilesMetricsParamsLineageAndCommands));
        await ui.VisitAsync("/acme/fraud-detector", "model-before-version");
        await ui.Page.Locator("table.versions-table").GetByRole(AriaRole.Link, new() { Name = "v3", Exact = true }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.EndsWith("/acme/fraud-detector/versions/3", StringComparison.Ordinal));
        await ui.CheckAsync("version");
        var page = ui.Page;

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("fraud-detector v3");
        await Assertions.Expect(page.Locator(".page-header")).ToContainTextAsync("1.2.0");
        await Assertions.Expect(page.Locator(".page-header .alias")).ToContainTextAsync("champion");
        await Assertions.Expect(page.Locator(".markdown strong")).ToHaveTextAsync("October");

        var metrics = page.Locator("table.kv-table").First;
        await Assertions.Expect(metrics).ToContainTextAsync("auc");
        await Assertions.Expect(metrics).ToContainTextAsync("0.95");
        await Assertions.Expect(page.Locator("table.kv-table").Nth(1)).ToContainTextAsync("0.005");
        await Assertions.Expect(page.Locator(".chips .tag")).ToContainTextAsync("validated");

        var files = page.Locator("table.files-table tbody tr");
        await Assertions.Expect(files).ToHaveCountAsync(3);
        await Assertions.Expect(files.Nth(0)).ToContainTextAsync("config/params.json");

        var lineage = page.Locator("dl.lineage");
        await Assertions.Expect(lineage).ToContainTextAsync(catalog.TrainingRunId);
        await Assertions.Expect(lineage).ToContainTextAsync(CatalogFixture.FraudCommit[..12]);
        await Assertions.Expect(lineage).ToContainTextAsync("s3://data/fraud/2025-10");
        await lineage.GetByRole(AriaRole.Link, new() { Name = "acme/fraud-detector:2" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/acme/fraud-detector/versions/2", StringComparison.Ordinal));
        await Assertions.Expect(page.Locator(".page-header .stage-production")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".timeline")).ToContainTextAsync("best so far");

        // Any selector opens the version it resolves to, and says so.
        await ui.VisitAsync("/acme/fraud-detector/versions/champion", "version-by-alias");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("fraud-detector v3");
        await Assertions.Expect(page.Locator("p.hint")).ToContainTextAsync("champion currently resolves to version 3");
        foreach (var selector in new[] { "production", "1.1.0", "latest" })
        {
            await page.GotoAsync($"/acme/fraud-detector/versions/{selector}");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(selector == "latest" ? "fraud-detector v3" : "fraud-detector v2");
        }

        await Assertions.Expect(page.Locator(".codeblock").First).ToContainTextAsync("berth pull acme/fraud-detector:3");
        await ui.VisitAsync("/acme/fraud-detector/versions/9", "version-missing", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("9");
    }

    [Fact]
    public async Task ADownloadedFileHasTheDigestThePageShows()
    {
        await using var ui = await SignedInAsync(nameof(ADownloadedFileHasTheDigestThePageShows), "rita");
        await ui.VisitAsync("/acme/fraud-detector/versions/3", "version-as-reader-download");
        var row = ui.Page.Locator("table.files-table tbody tr").Filter(new() { HasText = "model.bin" });
        var shown = await row.Locator(".digest code").GetAttributeAsync("title");
        var download = await ui.Page.RunAndWaitForDownloadAsync(() => row.GetByRole(AriaRole.Link, new() { Name = "Download model.bin" }).ClickAsync());
        Assert.Equal("model.bin", download.SuggestedFilename);
        var path = await download.PathAsync();
        var actual = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(path, Ct)));
        Assert.Equal(shown, actual);
        var expected = await catalog.Server.Client.GetVersionAsync(ModelReference.Parse("acme/fraud-detector:3"), withFiles: true, Ct);
        Assert.Equal(expected.Files!.Single(f => f.Path == "model.bin").Digest, actual);

        // What the session cookie fetched is the reader's: no browser or proxy may keep it for the next person.
        var again = await ui.Page.APIRequest.GetAsync((await row.GetByRole(AriaRole.Link, new() { Name = "Download model.bin" }).GetAttributeAsync("href"))!);
        Assert.Equal(200, again.Status);
        Assert.Contains("no-store", again.Headers["cache-control"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReaderSeesNoWriteActionAndForgedPostsAreRefusedAndChangeNothing()
    {
        await using var ui = await SignedInAsync(nameof(AReaderSeesNoWriteActionAndForgedPostsAreRefusedAndChangeNothing), "rita");
        await ui.VisitAsync("/acme/fraud-detector/versions/3", "version-as-reader");
        Assert.Equal(0, await ui.Page.Locator("main form[method='post']").CountAsync());
        Assert.Equal(0, await ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Stage and aliases" }).CountAsync());
        Assert.Equal(0, await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Delete version" }).CountAsync());
        Assert.Equal(0, await ui.Page.GetByText("Edit the description and tags").CountAsync());

        // Without the anti-forgery token: 400.
        var forged = await ui.Page.APIRequest.PostAsync("/acme/fraud-detector/versions/3", new()
        {
            Form = ui.Page.APIRequest.CreateFormData().Set("_handler", "stage").Set("Stage.Target", "archived"),
        });
        Assert.Equal(400, forged.Status);

        // With a valid token (the sign-out form's): refused as the API would refuse it, naming the role.
        var token = await ui.Page.Locator("input[name='_csrf']").First.GetAttributeAsync("value");
        foreach (var (handler, field, value, role) in new[]
        {
            ("stage", "Stage.Target", "archived", "writer"),
            ("alias", "Alias.Name", "pwned", "writer"),
            ("edit-version", "Edit.Description", "pwned", "writer"),
            ("delete-version", "confirm", "acme/fraud-detector:3", "admin"),
        })
        {
            var response = await ui.Page.APIRequest.PostAsync("/acme/fraud-detector/versions/3", new()
            {
                Form = ui.Page.APIRequest.CreateFormData().Set("_handler", handler).Set("_csrf", token!).Set(field, value),
            });
            Assert.Equal(403, response.Status);
            Assert.Contains($"this needs the {role} role", await response.TextAsync(), StringComparison.Ordinal);
        }

        var version = await catalog.Server.Client.GetVersionAsync(ModelReference.Parse("acme/fraud-detector:3"), cancellationToken: Ct);
        Assert.Null(version.Stage);
        Assert.Equal(["champion"], version.Aliases);
        Assert.Equal("Retrained on **October** data.", version.Description);
        Assert.Equal(VersionStates.Ready, version.State);

        // A version in a namespace the reader may not see answers like one that does not exist, to posts as well.
        await ui.VisitAsync("/research/xss-card/versions/1", "version-hidden", 404);
        var hidden = await ui.Page.APIRequest.PostAsync("/research/xss-card/versions/1", new()
        {
            Form = ui.Page.APIRequest.CreateFormData().Set("_handler", "stage").Set("_csrf", token!).Set("Stage.Target", "archived"),
        });
        Assert.Equal(404, hidden.Status);
    }

    [Fact]
    public async Task AWriterMovesTheStageSetsAndRemovesAnAliasAndEditsTagsAndEachIsAudited()
    {
        await PushAsync("vp-writes", versions: 2);
        await using var ui = await SignedInAsync(nameof(AWriterMovesTheStageSetsAndRemovesAnAliasAndEditsTagsAndEachIsAudited), "walt");
        await ui.VisitAsync("/acme/vp-writes/versions/1", "version-as-writer");
        var page = ui.Page;
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Delete version" }).CountAsync());

        await page.GetByLabel("Move to stage").SelectOptionAsync("staging");
        await page.GetByLabel("Why (shown in the history)").FillAsync("smoke tests green");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change stage" }).ClickAsync();
        await Assertions.Expect(page.Locator(".flash-success")).ToHaveTextAsync("Moved v1 to staging.");
        await Assertions.Expect(page.Locator(".page-header .stage-staging")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".timeline")).ToContainTextAsync("smoke tests green");

        await page.GetByLabel("Point an alias here").FillAsync("candidate");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set alias" }).ClickAsync();
        await Assertions.Expect(page.Locator(".flash-success")).ToHaveTextAsync("Alias candidate now points at v1.");
        await Assertions.Expect(page.Locator(".page-header .alias")).ToContainTextAsync("candidate");

        // A bad alias is explained beside the form, with the API's status, and changes nothing.
        await page.GetByLabel("Point an alias here").FillAsync("production");
        var refused = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Set alias" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("production");

        await page.GetByText("Edit the description and tags").ClickAsync();
        await page.GetByLabel("Description (markdown)").FillAsync("Fine-tuned on **café** data ✓");
        await page.GetByLabel("Tags, one key=value per line").FillAsync("validated=true\nowner=walt");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator(".flash-success")).ToHaveTextAsync("Saved the description and tags of v1.");
        await Assertions.Expect(page.Locator(".markdown strong")).ToHaveTextAsync("café");
        await ui.CheckAsync("version-after-edits");

        await page.GetByRole(AriaRole.Button, new() { Name = "Remove alias candidate" }).ClickAsync();
        await Assertions.Expect(page.Locator(".flash-success")).ToHaveTextAsync("Removed alias candidate.");

        var version = await catalog.Server.Client.GetVersionAsync(ModelReference.Parse("acme/vp-writes:1"), cancellationToken: Ct);
        Assert.Equal("staging", version.Stage);
        Assert.Empty(version.Aliases);
        Assert.Equal("walt", version.Tags["owner"]);

        // Audited as walt, like the API's calls.
        var audit = await catalog.Server.Client.ListAuditAsync(ns: "acme", cancellationToken: Ct).Where(e => e.Target?.Contains("vp-writes", StringComparison.Ordinal) == true).ToListAsync(Ct);
        foreach (var action in new[] { "stage.change", "alias.set", "version.update", "alias.remove" })
        {
            Assert.Contains(audit, e => e.Action == action && e.Actor == "walt");
        }
    }

    [Fact]
    public async Task AProtectedStageBecomesARequestThatAnApproverRejectsOnlyWithAComment()
    {
        await PushAsync("vp-review");
        await catalog.Server.Client.SetStageRuleAsync("acme", "vp-review", "production", new SetStageRuleRequest(RequiredApprovals: 1, Gate: "metrics.auc >= 0.9"), Ct);
        await catalog.Server.Client.SetStageRuleAsync("acme", "vp-review", "staging", new SetStageRuleRequest(RequiredApprovals: 1), Ct);
        await catalog.Server.CreateWithPasswordAsync("vera", "acme", "approver");

        await using (var walt = await SignedInAsync(nameof(AProtectedStageBecomesARequestThatAnApproverRejectsOnlyWithAComment) + "-walt", "walt"))
        {
            await walt.VisitAsync("/acme/vp-review/versions/1", "version-gated");
            // The gate is shown before anyone tries: auc 0.8 fails "metrics.auc >= 0.9".
            await Assertions.Expect(walt.Page.Locator(".gate-failed")).ToContainTextAsync("metrics.auc >= 0.9");
            await walt.Page.GetByLabel("Move to stage").SelectOptionAsync("staging");
            await walt.Page.GetByLabel("Why (shown in the history)").FillAsync("ready for a canary");
            await walt.Page.GetByRole(AriaRole.Button, new() { Name = "Change stage" }).ClickAsync();
            await Assertions.Expect(walt.Page.Locator(".flash-success")).ToContainTextAsync("waits for approval");
            var card = walt.Page.Locator("article.request");
            await Assertions.Expect(card).ToContainTextAsync("walt asks to move v1 to staging");
            await Assertions.Expect(card).ToContainTextAsync("0 of 1 approval");
            // The requester may cancel but not approve.
            Assert.Equal(0, await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).CountAsync());
            await Assertions.Expect(card.GetByRole(AriaRole.Button, new() { Name = "Cancel request" })).ToBeVisibleAsync();
            await walt.CheckAsync("version-with-request-as-requester");
        }

        await using var vera = await SignedInAsync(nameof(AProtectedStageBecomesARequestThatAnApproverRejectsOnlyWithAComment) + "-vera", "vera");
        await vera.VisitAsync("/acme/vp-review/versions/1", "version-with-request-as-approver");
        var request = vera.Page.Locator("article.request");
        var reject = await vera.Page.RunAndWaitForResponseAsync(() => request.GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, reject.Status);
        await Assertions.Expect(request.GetByRole(AriaRole.Alert)).ToContainTextAsync("a comment is required");
        Assert.Equal(RequestStates.Open, (await catalog.Server.Client.ListRequestsAsync("acme", cancellationToken: Ct).SingleAsync(r => r.Model == "vp-review", Ct)).State);

        await request.GetByLabel("Comment (required to reject)").FillAsync("no canary slot this week");
        await request.GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync();
        await Assertions.Expect(vera.Page.Locator(".flash-success")).ToContainTextAsync("Rejected request");
        Assert.Equal(0, await vera.Page.Locator("article.request").CountAsync());
        await Assertions.Expect(vera.Page.Locator(".timeline")).ToContainTextAsync("rejected request");
        var closed = await catalog.Server.Client.ListRequestsAsync("acme", "all", Ct).SingleAsync(r => r.Model == "vp-review", Ct);
        Assert.Equal(RequestStates.Rejected, closed.State);
        Assert.Equal("vera", closed.ClosedBy);
        Assert.Null((await catalog.Server.Client.GetVersionAsync(ModelReference.Parse("acme/vp-review:1"), cancellationToken: Ct)).Stage);
    }

    [Fact]
    public async Task AnAdministratorDeletesAVersionAfterTypingItsReferenceAndThePageThenSaysItIsDeleted()
    {
        await PushAsync("vp-delete", versions: 2);
        await using var ui = await SignedInAsync(nameof(AnAdministratorDeletesAVersionAfterTypingItsReferenceAndThePageThenSaysItIsDeleted));
        await ui.VisitAsync("/acme/vp-delete/versions/1", "version-as-admin");
        var confirm = ui.Page.GetByLabel("Type acme/vp-delete:1 to confirm");
        await confirm.FillAsync("acme/vp-delete:2");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Delete version" }).ClickAsync();
        await Assertions.Expect(ui.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Type acme/vp-delete:1 exactly");
        Assert.Equal(VersionStates.Ready, (await catalog.Server.Client.GetVersionAsync(ModelReference.Parse("acme/vp-delete:1"), cancellationToken: Ct)).State);

        await confirm.FillAsync("acme/vp-delete:1");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Delete version" }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.EndsWith("/acme/vp-delete", StringComparison.Ordinal));
        await Assertions.Expect(ui.Page.Locator(".flash-success")).ToHaveTextAsync("Deleted acme/vp-delete:1.");

        // The deleted version keeps its page, marked as such, without actions.
        await ui.VisitAsync("/acme/vp-delete/versions/1", "version-deleted");
        await Assertions.Expect(ui.Page.Locator(".page-header .state-deleted")).ToBeVisibleAsync();
        await Assertions.Expect(ui.Page.Locator("main")).ToContainTextAsync("This version is deleted");
        Assert.Equal(0, await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Change stage" }).CountAsync());
        await Assertions.Expect(ui.Page.Locator(".timeline")).ToContainTextAsync("deleted it");
    }
}
