using System.Net;
using System.Net.Http.Headers;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Testing;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>
/// The settings pages: your password and API tokens (the secret shown once, working, then refused once revoked), a
/// namespace's members, stage policy, protected aliases and webhooks (a test ping in the delivery log), and users and
/// teams for server administrators; people without the role see no action and their forged posts are refused.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SettingsTests(BrowserFixture browser, SettingsFixture world) : IClassFixture<SettingsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TestServer Server => world.Server;

    private async Task<UiSession> SignedInAsync(string test, string user, string password = UiUsers.Password)
    {
        var ui = await UiSession.OpenAsync(browser, Server, test + "-" + user);
        await ui.SignInAsync(user, password);
        return ui;
    }

    private async Task<HttpStatusCode> WhoAmIStatusAsync(string token)
    {
        using var http = Server.NewHttp(token);
        using var response = await http.GetAsync("/api/v1/whoami", Ct);
        return response.StatusCode;
    }

    /// <summary>Posts a form as the page's viewer would, with a valid anti-forgery token from the page they have open.</summary>
    private static async Task<IAPIResponse> ForgeAsync(UiSession ui, string path, string handler, params (string Key, string Value)[] fields)
    {
        var token = await ui.Page.Locator("input[name='_csrf']").First.GetAttributeAsync("value");
        var form = ui.Page.APIRequest.CreateFormData().Set("_handler", handler).Set("_csrf", token!);
        foreach (var (key, value) in fields)
        {
            form = form.Set(key, value);
        }

        return await ui.Page.APIRequest.PostAsync(path, new() { Form = form });
    }

    [Fact]
    public async Task ATokenCreatedInTheBrowserIsShownOnceWorksAgainstTheApiOutlivesTheSessionAndIsRefusedOnceRevoked()
    {
        await Server.CreateWithPasswordAsync("tina");
        const string test = nameof(ATokenCreatedInTheBrowserIsShownOnceWorksAgainstTheApiOutlivesTheSessionAndIsRefusedOnceRevoked);
        string secret;
        await using (var ui = await SignedInAsync(test, "tina"))
        {
            await ui.Page.Locator("details.menu > summary").ClickAsync();
            await ui.Page.GetByRole(AriaRole.Link, new() { Name = "API tokens" }).ClickAsync();
            await ui.Page.WaitForURLAsync(url => url.EndsWith("/settings/tokens", StringComparison.Ordinal));
            await ui.CheckAsync("tokens");
            // The browser's own session is listed, marked (beside the token of the API sign-in that set her password).
            var rows = ui.Page.Locator(".tokens-table tbody tr");
            await Assertions.Expect(rows).ToHaveCountAsync(2);
            await Assertions.Expect(ui.Page.Locator(".tokens-table .badge")).ToHaveTextAsync(["this browser"]);

            // A wrong password creates nothing.
            await ui.Page.GetByLabel("Name", new() { Exact = true }).FillAsync("ci");
            await ui.Page.GetByLabel("Your password").FillAsync("not my password at all");
            await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
            await Assertions.Expect(ui.Page.Locator(".flash-error")).ToContainTextAsync("The current password is wrong.");
            await Assertions.Expect(rows).ToHaveCountAsync(2);

            await ui.Page.GetByLabel("Name", new() { Exact = true }).FillAsync("ci");
            await ui.Page.GetByLabel("write").UncheckAsync();
            await ui.Page.GetByLabel("Expires").SelectOptionAsync("90");
            await ui.Page.GetByLabel("Your password").FillAsync(UiUsers.Password);
            // The POST redirects (so reloading the page posts nothing again), and the page it redirects to shows the secret
            // once: it traveled encrypted in a cookie that page deleted, never in a URL.
            var posted = ui.Page.WaitForResponseAsync(r => r.Request.Method == "POST" && r.Url.EndsWith("/settings/tokens", StringComparison.Ordinal));
            var shown = await ui.Page.RunAndWaitForResponseAsync(
                () => ui.Page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync(),
                r => r.Request.Method == "GET" && r.Url.EndsWith("/settings/tokens", StringComparison.Ordinal));
            Assert.Equal(302, (await posted).Status);
            Assert.Equal(200, shown.Status);
            Assert.Contains("no-store", (await shown.AllHeadersAsync())["cache-control"], StringComparison.Ordinal);
            secret = (await ui.Page.Locator(".secret-box pre code").TextContentAsync())!.Trim();
            Assert.StartsWith("berth_", secret, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, ui.Page.Url, StringComparison.Ordinal);
            Assert.DoesNotContain(await ui.Context.CookiesAsync(), c => c.Value.Contains(secret, StringComparison.Ordinal) || c.Name == Berth.Web.Hosting.Flash.RevealCookieName);
            await ui.CheckAsync("token-created");
            await Assertions.Expect(rows).ToHaveCountAsync(3);

            // Reloading shows it no more and makes no second token.
            await ui.Page.ReloadAsync();
            await Assertions.Expect(ui.Page.Locator(".secret-box")).ToHaveCountAsync(0);
            Assert.DoesNotContain(secret, await ui.Page.ContentAsync(), StringComparison.Ordinal);
            await Assertions.Expect(rows).ToHaveCountAsync(3);

            var row = ui.Page.Locator(".tokens-table tbody tr", new() { HasText = "ci" });
            await Assertions.Expect(row).ToContainTextAsync("read");
            Assert.DoesNotContain("write", await row.Locator("td").First.TextContentAsync() ?? "", StringComparison.Ordinal);

            // The token works with the API, with the scopes chosen.
            using (var client = Server.NewClient(secret))
            {
                var me = await client.WhoAmIAsync(Ct);
                Assert.Equal("tina", me.User.Name);
                Assert.Equal(["read"], me.Token!.Scopes);
                Assert.False(me.Token.WebSession);
                Assert.True(me.Token.ExpiresAt > DateTimeOffset.UtcNow.AddDays(89));
            }

            // Shown once: the list shows its name and prefix, never the secret again.
            await ui.VisitAsync("/settings/tokens", "tokens-after");
            Assert.DoesNotContain(secret, await ui.Page.ContentAsync(), StringComparison.Ordinal);

            await ui.Page.Locator("details.menu > summary").ClickAsync();
            await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
            await ui.Page.WaitForURLAsync(url => url.Contains("/signin", StringComparison.Ordinal));
        }

        // Signing out ended the session, not the token made for a program.
        Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(secret));

        await using (var ui = await SignedInAsync(test + "-again", "tina"))
        {
            await ui.VisitAsync("/settings/tokens", "tokens-revoke");
            var row = ui.Page.Locator(".tokens-table tbody tr", new() { HasText = "ci" });
            await row.Locator("summary", new() { HasText = "Revoke…" }).ClickAsync();
            await row.GetByRole(AriaRole.Button, new() { Name = "Revoke “ci”" }).ClickAsync();
            await Assertions.Expect(ui.Page.Locator(".flash-success")).ToHaveTextAsync("Revoked the token “ci”.");
            await Assertions.Expect(ui.Page.Locator(".tokens-table tbody tr", new() { HasText = "ci" })).ToHaveCountAsync(0);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await WhoAmIStatusAsync(secret));
        var audit = await Server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Contains(audit, e => e.Action == "token.create" && e.Actor == "tina" && e.Details!.Contains("\"ci\"", StringComparison.Ordinal));
        Assert.Contains(audit, e => e.Action == "token.revoke" && e.Actor == "tina" && e.Details!.Contains("\"ci\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ChangingThePasswordSignsOutTheOtherBrowserSessionsAndTheNewPasswordSignsIn()
    {
        await Server.CreateWithPasswordAsync("pam");
        const string test = nameof(ChangingThePasswordSignsOutTheOtherBrowserSessionsAndTheNewPasswordSignsIn);
        const string newPassword = "a brand new passphrase for pam";
        var program = (await Server.Client.SignInAsync(new SignInRequest("pam", UiUsers.Password, TokenName: "laptop"), Ct)).Session.Token;
        await using var other = await SignedInAsync(test, "pam");
        await using var ui = await SignedInAsync(test + "-changer", "pam");
        await ui.Page.Locator("details.menu > summary").ClickAsync();
        await ui.Page.GetByRole(AriaRole.Link, new() { Name = "Settings" }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.EndsWith("/settings", StringComparison.Ordinal));
        await ui.CheckAsync("profile");
        await Assertions.Expect(ui.Page.Locator(".dl-grid")).ToContainTextAsync("pam@example.test");
        // A reader of nothing sees their own settings only: no users or teams.
        Assert.Equal(0, await ui.Page.GetByRole(AriaRole.Navigation, new() { Name = "Settings" }).GetByRole(AriaRole.Link, new() { Name = "Users" }).CountAsync());

        // Refusals are shown beside the form, with the API's status, and change nothing.
        await ui.Page.GetByLabel("Current password").FillAsync(UiUsers.Password);
        await ui.Page.GetByLabel("New password", new() { Exact = true }).FillAsync(newPassword);
        await ui.Page.GetByLabel("Repeat the new password").FillAsync(newPassword + "!");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-error")).ToHaveTextAsync("The two new passwords differ.");
        await ui.Page.GetByLabel("Current password").FillAsync(UiUsers.Password);
        // The server refuses a weak password even when the browser's own check (minlength) is taken away.
        await ui.Page.Locator("#new-password").EvaluateAsync("e => e.removeAttribute('minlength')");
        await ui.Page.GetByLabel("New password", new() { Exact = true }).FillAsync("short");
        await ui.Page.GetByLabel("Repeat the new password").FillAsync("short");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-error")).ToHaveTextAsync("A password needs at least 10 characters.");
        await ui.CheckAsync("profile-refused");

        await ui.Page.GetByLabel("Current password").FillAsync(UiUsers.Password);
        await ui.Page.GetByLabel("New password", new() { Exact = true }).FillAsync(newPassword);
        await ui.Page.GetByLabel("Repeat the new password").FillAsync(newPassword);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-success")).ToContainTextAsync("Changed your password.");

        // This session goes on; the other browser is signed out; a token made for a program keeps working.
        await ui.VisitAsync("/settings/tokens", "tokens-after-password-change");
        await Assertions.Expect(ui.Page.Locator(".tokens-table")).ToContainTextAsync("this browser");
        await Assertions.Expect(ui.Page.Locator(".tokens-table .badge")).ToHaveTextAsync(["this browser"]);
        await other.Page.GotoAsync("/settings");
        Assert.Contains("/signin", other.Page.Url, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(program));

        // The new password signs in; the old one no longer does.
        await using var fresh = await UiSession.OpenAsync(browser, Server, test + "-fresh");
        await fresh.Page.GotoAsync("/signin");
        await fresh.Page.GetByLabel("User name").FillAsync("pam");
        await fresh.Page.GetByLabel("Password", new() { Exact = true }).FillAsync(UiUsers.Password);
        await fresh.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Assertions.Expect(fresh.Page.Locator(".flash-error")).ToContainTextAsync("wrong");
        await fresh.SignInAsync("pam", newPassword);
        await Assertions.Expect(fresh.Page.Locator(".usermenu")).ToContainTextAsync("pam");
    }

    [Fact]
    public async Task ChangingThePasswordThroughTheApiOrAnAdministratorsResetAlsoEndsTheBrowserSessions()
    {
        const string test = nameof(ChangingThePasswordThroughTheApiOrAnAdministratorsResetAlsoEndsTheBrowserSessions);
        const string changed = "another long passphrase";
        await Server.CreateWithPasswordAsync("paul");
        var token = (await Server.Client.SignInAsync(new SignInRequest("paul", UiUsers.Password), Ct)).Session.Token;
        await using (var ui = await SignedInAsync(test, "paul"))
        {
            using (var client = Server.NewClient(token))
            {
                await client.ChangePasswordAsync(new ChangePasswordRequest(UiUsers.Password, changed), Ct);
            }

            await ui.Page.GotoAsync("/settings");
            Assert.Contains("/signin", ui.Page.Url, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(token));
        }

        await using (var ui = await SignedInAsync(test + "-reset", "paul", changed))
        {
            await Server.Client.ResetPasswordAsync("paul", Ct);
            await ui.Page.GotoAsync("/settings");
            Assert.Contains("/signin", ui.Page.Url, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, await WhoAmIStatusAsync(token));
        }
    }

    [Fact]
    public async Task ANamespaceAdminAddsAMemberWhoCanThenActAndSetsThePolicyAndProtectedAliases()
    {
        await world.NamespaceWithModelAsync("labs");
        await Server.CreateWithPasswordAsync("ada", "labs", "admin");
        await Server.CreateWithPasswordAsync("wes");
        const string test = nameof(ANamespaceAdminAddsAMemberWhoCanThenActAndSetsThePolicyAndProtectedAliases);

        await using (var ada = await SignedInAsync(test, "ada"))
        {
            await ada.VisitAsync("/labs", "namespace-as-admin");
            await ada.Page.Locator(".page-actions").GetByRole(AriaRole.Link, new() { Name = "Settings" }).ClickAsync();
            await ada.Page.WaitForURLAsync(url => url.EndsWith("/settings/namespaces/labs", StringComparison.Ordinal));
            await ada.CheckAsync("namespace-settings");

            // An unknown user is refused beside the form.
            await ada.Page.GetByLabel("Name", new() { Exact = true }).FillAsync("nobody-here");
            await ada.Page.GetByRole(AriaRole.Button, new() { Name = "Add member" }).ClickAsync();
            await Assertions.Expect(ada.Page.Locator(".flash-error")).ToContainTextAsync("There is no user 'nobody-here'.");

            await ada.Page.GetByLabel("Name", new() { Exact = true }).FillAsync("wes");
            await ada.Page.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("writer");
            await ada.Page.GetByRole(AriaRole.Button, new() { Name = "Add member" }).ClickAsync();
            await Assertions.Expect(ada.Page.Locator(".flash-success")).ToHaveTextAsync("User wes is now writer of labs.");
            await Assertions.Expect(ada.Page.GetByLabel("Role of wes")).ToHaveValueAsync("writer");

            // A gated stage that needs an approval.
            await ada.Page.GetByText("Add a stage").ClickAsync();
            await ada.Page.GetByLabel("Stage name").FillAsync("canary");
            await ada.Page.Locator("#add-stage-approvals").FillAsync("1");
            await ada.Page.Locator("#add-stage-gate").FillAsync("metrics.auc >= 0.9");
            await ada.Page.GetByRole(AriaRole.Button, new() { Name = "Add stage" }).ClickAsync();
            await Assertions.Expect(ada.Page.Locator(".flash-success")).ToHaveTextAsync("Added stage canary.");
            await Assertions.Expect(ada.Page.Locator(".stages-table")).ToContainTextAsync("1 approval needed");
            await ada.CheckAsync("namespace-settings-after");

            // The model's own settings: protect an alias.
            await ada.VisitAsync("/labs/scorer", "model-as-admin");
            await ada.Page.Locator(".page-actions").GetByRole(AriaRole.Link, new() { Name = "Settings" }).ClickAsync();
            await ada.Page.WaitForURLAsync(url => url.EndsWith("/settings/namespaces/labs/models/scorer", StringComparison.Ordinal));
            await ada.CheckAsync("model-settings");
            await ada.Page.GetByLabel("Alias", new() { Exact = true }).FillAsync("champion");
            await ada.Page.GetByLabel("Approvals needed").First.FillAsync("2");
            await ada.Page.GetByRole(AriaRole.Button, new() { Name = "Protect alias" }).ClickAsync();
            await Assertions.Expect(ada.Page.Locator(".flash-success")).ToHaveTextAsync("Alias champion is protected: moving it needs 2 approvals.");
            await ada.CheckAsync("model-settings-after");
        }

        var policy = await Server.Client.GetPolicyAsync("labs", cancellationToken: Ct);
        var canary = Assert.Single(policy.Stages, s => s.Stage == "canary");
        Assert.Equal((1, "metrics.auc >= 0.9"), (canary.RequiredApprovals, canary.Gate));
        Assert.Equal(2, Assert.Single(await Server.Client.ListProtectedAliasesAsync("labs", "scorer", Ct), a => a.Name == "champion").RequiredApprovals);
        var audit = await Server.Client.ListAuditAsync(ns: "labs", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Contains(audit, e => e.Action == "member.add" && e.Actor == "ada" && e.Target == "user wes");

        // The new writer can act: edit the model card in the browser.
        await using (var wes = await SignedInAsync(test, "wes"))
        {
            await wes.VisitAsync("/labs/scorer", "model-as-new-writer");
            await wes.Page.GetByText("Edit the model card and tags").ClickAsync();
            await wes.Page.GetByLabel("Model card (markdown)").FillAsync("Scores things, by wes.");
            await wes.Page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
            await Assertions.Expect(wes.Page.Locator(".flash-success")).ToHaveTextAsync("Saved the model card.");
            // A writer is no admin: no settings link.
            Assert.Equal(0, await wes.Page.Locator(".page-actions").GetByRole(AriaRole.Link, new() { Name = "Settings" }).CountAsync());
        }

        Assert.Equal("Scores things, by wes.", (await Server.Client.GetModelAsync("labs", "scorer", Ct)).Description);
    }

    [Fact]
    public async Task ReadersSeeNoSettingsActionsAndTheirForgedPostsAreRefusedAndChangeNothing()
    {
        await world.NamespaceWithModelAsync("vault");
        await Server.CreateWithPasswordAsync("rhea", "vault", "reader");
        await Server.CreateWithPasswordAsync("sam");
        const string test = nameof(ReadersSeeNoSettingsActionsAndTheirForgedPostsAreRefusedAndChangeNothing);
        var hook = await Server.Client.CreateWebhookAsync("vault", new CreateWebhookRequest("http://127.0.0.1:9/hook"), Ct);

        await using (var rhea = await SignedInAsync(test, "rhea"))
        {
            await rhea.VisitAsync("/vault", "namespace-as-reader");
            Assert.Equal(0, await rhea.Page.Locator(".page-actions").CountAsync());
            await rhea.VisitAsync("/vault/scorer", "model-as-reader");
            Assert.Equal(0, await rhea.Page.Locator(".page-actions").CountAsync());
            await rhea.VisitAsync("/settings/namespaces", "namespaces-as-reader");
            await Assertions.Expect(rhea.Page.Locator(".settings-main")).ToContainTextAsync("You administer no namespace");
            await rhea.VisitAsync("/settings/namespaces/vault", "namespace-settings-as-reader", 403);
            await Assertions.Expect(rhea.Page.Locator(".error-message")).ToContainTextAsync("admin role");
            Assert.Equal(0, await rhea.Page.Locator("main form[method='post']").CountAsync());
            await rhea.VisitAsync($"/settings/namespaces/vault/webhooks/{hook.Id}", "webhook-as-reader", 403);
            await rhea.VisitAsync("/settings/users", "users-as-reader", 403);
            await Assertions.Expect(rhea.Page.Locator(".error-message")).ToContainTextAsync("Only server administrators");

            await rhea.VisitAsync("/settings", "profile-as-reader");
            foreach (var (path, handler, fields) in new (string, string, (string, string)[])[]
            {
                ("/settings/namespaces/vault", "add-member", [("Add.Kind", "user"), ("Add.Name", "rhea"), ("Add.Role", "admin")]),
                ("/settings/namespaces/vault", "add-stage", [("Stage.Name", "yolo")]),
                ("/settings/namespaces/vault/models/scorer", "protect", [("Protect.Alias", "best"), ("Protect.Approvals", "1")]),
                ($"/settings/namespaces/vault/webhooks/{hook.Id}", "toggle-webhook", []),
            })
            {
                var forged = await ForgeAsync(rhea, path, handler, fields);
                Assert.Equal(403, forged.Status);
                Assert.Contains("this needs the admin role", await forged.TextAsync(), StringComparison.Ordinal);
            }

            var users = await ForgeAsync(rhea, "/settings/users", "create-user", ("Create.Name", "mallory"));
            Assert.Equal(403, users.Status);
            var teams = await ForgeAsync(rhea, "/settings/teams", "create-team", ("Create.Name", "crew"));
            Assert.Equal(403, teams.Status);
        }

        // Someone without a role learns nothing about the namespace, nor about its webhook.
        await using (var sam = await SignedInAsync(test, "sam"))
        {
            await sam.VisitAsync("/settings/namespaces/vault", "namespace-settings-as-stranger", 404);
            await sam.VisitAsync($"/settings/namespaces/vault/webhooks/{hook.Id}", "webhook-as-stranger", 404);
            await sam.VisitAsync("/settings", "profile-as-stranger");
            var forged = await ForgeAsync(sam, "/settings/namespaces/vault", "add-member", ("Add.Kind", "user"), ("Add.Name", "sam"), ("Add.Role", "admin"));
            Assert.Equal(404, forged.Status);
            var webhook = await ForgeAsync(sam, $"/settings/namespaces/vault/webhooks/{hook.Id}", "delete-webhook", ("confirm", hook.Url));
            Assert.Equal(404, webhook.Status);
        }

        var members = await Server.Client.ListMembersAsync("vault", Ct).ToListAsync(Ct);
        Assert.Equal(["reader"], members.Where(m => m.User is "rhea" or "sam").Select(m => m.Role));
        Assert.DoesNotContain((await Server.Client.GetPolicyAsync("vault", cancellationToken: Ct)).Stages, s => s.Stage == "yolo");
        Assert.Empty(await Server.Client.ListProtectedAliasesAsync("vault", "scorer", Ct));
        Assert.True((await Server.Client.GetWebhookAsync(hook.Id, Ct)).Enabled);
        Assert.DoesNotContain(await Server.Client.ListUsersAsync(Ct).ToListAsync(Ct), u => u.Name == "mallory");
    }

    [Fact]
    public async Task AWebhookCreatedInTheBrowserShowsItsTestPingAndItsDeliveriesInTheLog()
    {
        await world.NamespaceWithModelAsync("hooks");
        await Server.CreateWithPasswordAsync("hana", "hooks", "admin");
        await using var receiver = await WebhookReceiver.StartAsync();
        const string test = nameof(AWebhookCreatedInTheBrowserShowsItsTestPingAndItsDeliveriesInTheLog);
        await using var ui = await SignedInAsync(test, "hana");

        await ui.VisitAsync("/settings/namespaces/hooks", "webhooks-none");
        await ui.Page.GetByText("Add a webhook").ClickAsync();
        // An address webhooks may not call is refused beside the form.
        await ui.Page.GetByLabel("Payload URL").FillAsync("http://169.254.169.254/latest");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-error")).ToContainTextAsync("Webhooks may not call");

        await ui.Page.GetByLabel("Payload URL").FillAsync(receiver.Url);
        await ui.Page.GetByLabel("version.created").CheckAsync();
        await ui.Page.GetByLabel("Description").FillAsync("CI trigger");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
        var secret = (await ui.Page.Locator(".secret-box pre code").TextContentAsync())!.Trim();
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        await ui.CheckAsync("webhook-created");
        // Reloading the page it was shown on neither shows the secret again nor adds a second webhook.
        await ui.Page.ReloadAsync();
        await Assertions.Expect(ui.Page.Locator(".secret-box")).ToHaveCountAsync(0);
        var hook = Assert.Single(await Server.Client.ListWebhooksAsync("hooks", Ct).ToListAsync(Ct));
        Assert.Equal([EventTypes.VersionCreated], hook.Events);
        Assert.Equal("CI trigger", hook.Description);

        await ui.Page.GetByRole(AriaRole.Link, new() { Name = $"#{hook.Id} {receiver.Url}" }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.EndsWith($"/settings/namespaces/hooks/webhooks/{hook.Id}", StringComparison.Ordinal));
        await ui.CheckAsync("webhook");
        await Assertions.Expect(ui.Page.Locator(".deliveries-table")).ToHaveCountAsync(0);

        // A test ping: its result at once, and a delivery in the log.
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Send a test ping" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-success")).ToContainTextAsync("delivered: HTTP 204");
        var ping = ui.Page.Locator(".deliveries-table tbody tr", new() { HasText = "ping" });
        await Assertions.Expect(ping).ToContainTextAsync("succeeded");
        await Assertions.Expect(ping).ToContainTextAsync("204");
        Assert.Single(receiver.Calls, c => c.EventType == "ping");
        await ping.GetByRole(AriaRole.Link).First.ClickAsync();
        await Assertions.Expect(ui.Page.Locator("section[aria-labelledby='attempts-heading']")).ToContainTextAsync("Attempt 1");
        await Assertions.Expect(ui.Page.Locator("section[aria-labelledby='attempts-heading']")).ToContainTextAsync("HTTP 204");
        await ui.CheckAsync("webhook-attempts");

        // An event is delivered by the worker, shows in the log, and can be sent again.
        await world.PushAsync("hooks", "scorer");
        await receiver.WaitForAsync(calls => calls.Any(c => c.EventType == EventTypes.VersionCreated));
        await Eventually.WaitForAsync(() => Server.Client.ListDeliveriesAsync(hook.Id, DeliveryStates.Succeeded, Ct).ToListAsync(Ct).AsTask(), d => d.Any(x => x.EventType == EventTypes.VersionCreated));
        await ui.VisitAsync(Berth.Web.Components.UI.Links.SettingsWebhook("hooks", hook.Id), "webhook-deliveries");
        var delivered = ui.Page.Locator(".deliveries-table tbody tr", new() { HasText = EventTypes.VersionCreated });
        await delivered.GetByRole(AriaRole.Button, new() { Name = "Redeliver" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-success")).ToContainTextAsync("again.");
        await receiver.WaitForAsync(calls => calls.Count(c => c.EventType == EventTypes.VersionCreated) == 2);

        // Disable and enable.
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-success")).ToContainTextAsync("Disabled webhook");
        Assert.False((await Server.Client.GetWebhookAsync(hook.Id, Ct)).Enabled);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Enable" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-success")).ToContainTextAsync("Enabled webhook");
        Assert.True((await Server.Client.GetWebhookAsync(hook.Id, Ct)).Enabled);

        // Deleting asks for the URL.
        await ui.Page.GetByLabel("Type").FillAsync(receiver.Url);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Delete webhook" }).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-success")).ToHaveTextAsync($"Deleted webhook #{hook.Id}.");
        Assert.Empty(await Server.Client.ListWebhooksAsync("hooks", Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task ServerAdministratorsCreateUsersWithAOneTimePasswordDisableThemAndManageTeams()
    {
        const string test = nameof(ServerAdministratorsCreateUsersWithAOneTimePasswordDisableThemAndManageTeams);
        await using var admin = await SignedInAsync(test, "admin");
        await admin.VisitAsync("/settings/users", "users");
        await admin.Page.GetByLabel("User name").FillAsync("nora");
        await admin.Page.GetByLabel("Display name").FillAsync("Nora Example");
        await admin.Page.GetByLabel("Email").FillAsync("nora@example.test");
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        var oneTime = (await admin.Page.Locator(".secret-box pre code").TextContentAsync())!.Trim();
        await admin.CheckAsync("user-created");
        await Assertions.Expect(admin.Page.Locator(".users-table")).ToContainTextAsync("nora");

        // The new user signs in with it and must choose a password.
        await using (var nora = await UiSession.OpenAsync(browser, Server, test + "-nora"))
        {
            await nora.SignInAsync("nora", oneTime, "nora's own long passphrase");
            await nora.VisitAsync("/settings", "profile-of-new-user");

            // Disabling her ends her session at once.
            await admin.Page.GetByRole(AriaRole.Link, new() { Name = "nora", Exact = true }).ClickAsync();
            await admin.Page.WaitForURLAsync(url => url.EndsWith("/settings/users/nora", StringComparison.Ordinal));
            await admin.CheckAsync("user");
            await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Disable user" }).ClickAsync();
            await Assertions.Expect(admin.Page.Locator(".flash-success")).ToContainTextAsync("Disabled nora");
            await nora.Page.GotoAsync("/settings");
            Assert.Contains("/signin", nora.Page.Url, StringComparison.Ordinal);
        }

        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Enable user" }).ClickAsync();
        await Assertions.Expect(admin.Page.Locator(".flash-success")).ToHaveTextAsync("Enabled nora.");
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Make server administrator" }).ClickAsync();
        await Assertions.Expect(admin.Page.Locator(".flash-success")).ToHaveTextAsync("nora is now a server administrator.");
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Reset password" }).ClickAsync();
        var reset = (await admin.Page.Locator(".secret-box pre code").TextContentAsync())!.Trim();
        Assert.NotEqual(oneTime, reset);
        var nora2 = await Server.Client.GetUserAsync("nora", Ct);
        Assert.Equal((false, true, true), (nora2.Disabled, nora2.IsAdmin, nora2.MustChangePassword));

        // Teams.
        await admin.VisitAsync("/settings/teams", "teams");
        await admin.Page.GetByLabel("Team name").FillAsync("ml-platform");
        await admin.Page.GetByLabel("Description").FillAsync("Runs the training cluster");
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await admin.Page.WaitForURLAsync(url => url.EndsWith("/settings/teams/ml-platform", StringComparison.Ordinal));
        await admin.Page.GetByLabel("User name").FillAsync("nora");
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Add to team" }).ClickAsync();
        await Assertions.Expect(admin.Page.Locator(".flash-success")).ToHaveTextAsync("Added nora to ml-platform.");
        await admin.CheckAsync("team");
        Assert.Equal(["nora"], (await Server.Client.GetTeamAsync("ml-platform", Ct)).Members);
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Remove nora" }).ClickAsync();
        await Assertions.Expect(admin.Page.Locator(".flash-success")).ToHaveTextAsync("Removed nora from ml-platform.");
        Assert.Empty((await Server.Client.GetTeamAsync("ml-platform", Ct)).Members);
        await admin.Page.GetByLabel("Type").FillAsync("ml-platform");
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Delete team" }).ClickAsync();
        await Assertions.Expect(admin.Page.Locator(".flash-success")).ToHaveTextAsync("Deleted team ml-platform.");
        await admin.CheckAsync("teams-after");
        Assert.DoesNotContain(await Server.Client.ListTeamsAsync(Ct).ToListAsync(Ct), t => t.Name == "ml-platform");
    }
}
