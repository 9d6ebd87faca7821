using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>
/// Promotions under review: one user asks for a protected stage on the version page, another approves it in the requests
/// inbox; the stage changes, the history and the audit log say who did what; people without the role see no button and
/// a forged decision is refused.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RequestsTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<UiSession> SignedInAsync(string test, string user)
    {
        var ui = await UiSession.OpenAsync(browser, catalog.Server, test + "-" + user);
        await ui.SignInAsync(user, UiUsers.Password);
        return ui;
    }

    /// <summary>A namespace with a model whose production stage needs one approval and passes its gate, a writer and an approver.</summary>
    private async Task<string> ProtectedNamespaceAsync(string ns, string writer, string approver)
    {
        var client = catalog.Server.Client;
        await catalog.Server.CreateNamespaceAsync(ns);
        using (var folder = new ModelFolder())
        {
            folder.Write("scorer.onnx", 64, seed: Random.Shared.Next());
            await client.PushAsync(folder.Root, ns, "scorer", new PushOptions { Metrics = new Dictionary<string, double> { ["auc"] = 0.95 } }, cancellationToken: Ct);
        }

        await client.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(RequiredApprovals: 1, Gate: "metrics.auc >= 0.9"), Ct);
        await catalog.Server.CreateWithPasswordAsync(writer, ns, "writer");
        await catalog.Server.CreateWithPasswordAsync(approver, ns, "approver");
        return ns;
    }

    [Fact]
    public async Task APromotionRequestedByOneUserIsApprovedByAnotherInTheInboxAndTheStageChangeIsAudited()
    {
        var ns = await ProtectedNamespaceAsync("bank", "petra", "omar");
        const string test = nameof(APromotionRequestedByOneUserIsApprovedByAnotherInTheInboxAndTheStageChangeIsAudited);

        await using (var petra = await SignedInAsync(test, "petra"))
        {
            await petra.VisitAsync("/bank/scorer/versions/1", "version-before-request");
            await Assertions.Expect(petra.Page.Locator(".gate-passed")).ToContainTextAsync("metrics.auc >= 0.9");
            await petra.Page.GetByLabel("Move to stage").SelectOptionAsync("production");
            await petra.Page.GetByLabel("Why (shown in the history)").FillAsync("beats the holdout baseline");
            await petra.Page.GetByRole(AriaRole.Button, new() { Name = "Change stage" }).ClickAsync();
            await Assertions.Expect(petra.Page.Locator(".flash-success")).ToContainTextAsync("waits for approval");
            Assert.Null((await catalog.Server.Client.GetVersionAsync(ModelReference.Parse("bank/scorer:1"), cancellationToken: Ct)).Stage);

            // The requester finds it among their own requests, and cannot approve it.
            await petra.Page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Requests" }).ClickAsync();
            await petra.Page.WaitForURLAsync(url => url.EndsWith("/requests", StringComparison.Ordinal));
            await petra.CheckAsync("requests-as-requester");
            var mine = petra.Page.Locator("section[aria-labelledby='mine-heading'] article.request");
            await Assertions.Expect(mine).ToContainTextAsync("petra asks to move bank/scorer v1 to production");
            Assert.Equal(0, await petra.Page.GetByRole(AriaRole.Button, new() { Name = "Approve" }).CountAsync());
            await Assertions.Expect(petra.Page.Locator("section[aria-labelledby='review-heading']")).ToContainTextAsync("Nothing waits for your review.");
        }

        await using var omar = await SignedInAsync(test, "omar");
        await omar.VisitAsync("/requests", "requests-as-approver");
        var card = omar.Page.Locator("section[aria-labelledby='review-heading'] article.request");
        await Assertions.Expect(card).ToHaveCountAsync(1);
        await Assertions.Expect(card).ToContainTextAsync("petra asks to move bank/scorer v1 to production");
        await Assertions.Expect(card).ToContainTextAsync("0 of 1 approval");
        await Assertions.Expect(card).ToContainTextAsync("beats the holdout baseline");
        await Assertions.Expect(card.Locator(".gate-passed")).ToContainTextAsync("metrics.auc >= 0.9");
        await card.GetByLabel("Comment (required to reject)").FillAsync("numbers check out");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Assertions.Expect(omar.Page.Locator(".flash-success")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Approved request #\\d+: bank/scorer:1 is now in production\\.$"));
        await Assertions.Expect(omar.Page.Locator("section[aria-labelledby='review-heading']")).ToContainTextAsync("Nothing waits for your review.");
        await omar.CheckAsync("requests-after-approval");

        // The stage changed, and the version's page says who did what.
        await omar.VisitAsync("/bank/scorer/versions/1", "version-after-approval");
        await Assertions.Expect(omar.Page.Locator(".page-header .stage-production")).ToBeVisibleAsync();
        var timeline = omar.Page.Locator(".timeline");
        await Assertions.Expect(timeline).ToContainTextAsync("omar moved it to production");
        await Assertions.Expect(timeline).ToContainTextAsync("petra opened request");
        Assert.Equal("production", (await catalog.Server.Client.GetVersionAsync(ModelReference.Parse("bank/scorer:1"), cancellationToken: Ct)).Stage);

        // The audit log has the request, the approval and the stage change, each by its person.
        var audit = await catalog.Server.Client.ListAuditAsync(ns: ns, cancellationToken: Ct).ToListAsync(Ct);
        Assert.Contains(audit, e => e.Action == "request.open" && e.Actor == "petra");
        Assert.Contains(audit, e => e.Action == "request.approve" && e.Actor == "omar");
        Assert.Contains(audit, e => e.Action == "stage.change" && e.Actor == "omar" && e.Target == "bank/scorer:1" && e.Details!.Contains("production", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PeopleWhoMayNotReviewSeeNoButtonAndTheirForgedDecisionsAreRefusedAndChangeNothing()
    {
        var ns = await ProtectedNamespaceAsync("vault", "wendy", "otto");
        await catalog.Server.CreateWithPasswordAsync("riley", ns, "reader");
        await catalog.Server.CreateWithPasswordAsync("stranger");
        var opened = await catalog.Server.Client.ChangeStageAsync(ModelReference.Parse("vault/scorer:1"), "production", "please", cancellationToken: Ct);
        var id = opened.Request!.Id;
        const string test = nameof(PeopleWhoMayNotReviewSeeNoButtonAndTheirForgedDecisionsAreRefusedAndChangeNothing);

        await using (var riley = await SignedInAsync(test, "riley"))
        {
            await riley.VisitAsync("/requests", "requests-as-reader");
            Assert.Equal(0, await riley.Page.Locator("article.request").CountAsync());
            await riley.VisitAsync("/vault/scorer/versions/1", "version-with-request-as-reader");
            await Assertions.Expect(riley.Page.Locator("article.request")).ToContainTextAsync("asks to move v1 to production");
            Assert.Equal(0, await riley.Page.Locator("main form[method='post']").CountAsync());

            var token = await riley.Page.Locator("input[name='_csrf']").First.GetAttributeAsync("value");
            foreach (var path in new[] { "/requests", "/vault/scorer/versions/1" })
            {
                var withoutToken = await riley.Page.APIRequest.PostAsync(path, new()
                {
                    Form = riley.Page.APIRequest.CreateFormData().Set("_handler", $"request-{id}").Set("review.Decision", "approve"),
                });
                Assert.Equal(400, withoutToken.Status);
                var forged = await riley.Page.APIRequest.PostAsync(path, new()
                {
                    Form = riley.Page.APIRequest.CreateFormData().Set("_handler", $"request-{id}").Set("_csrf", token!).Set("review.Decision", "approve"),
                });
                Assert.Equal(403, forged.Status);
                Assert.Contains("this needs the approver role", await forged.TextAsync(), StringComparison.Ordinal);
            }
        }

        // Someone without a role in the namespace learns nothing about the request.
        await using (var stranger = await SignedInAsync(test, "stranger"))
        {
            await stranger.VisitAsync("/requests", "requests-as-stranger");
            Assert.Equal(0, await stranger.Page.Locator("article.request").CountAsync());
            var token = await stranger.Page.Locator("input[name='_csrf']").First.GetAttributeAsync("value");
            var forged = await stranger.Page.APIRequest.PostAsync("/requests", new()
            {
                Form = stranger.Page.APIRequest.CreateFormData().Set("_handler", $"request-{id}").Set("_csrf", token!).Set("review.Decision", "reject").Set("review.Comment", "no"),
            });
            Assert.Equal(404, forged.Status);
            Assert.Contains($"There is no request #{id}.", await forged.TextAsync(), StringComparison.Ordinal);
        }

        var request = await catalog.Server.Client.GetRequestAsync(id, Ct);
        Assert.Equal(RequestStates.Open, request.State);
        Assert.Empty(request.Reviews);
        Assert.Null((await catalog.Server.Client.GetVersionAsync(ModelReference.Parse("vault/scorer:1"), cancellationToken: Ct)).Stage);
    }
}
