using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>Signing in and out of the web UI: the first-start administrator, wrong passwords, sessions that end.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SignInTests(BrowserFixture browser) : IAsyncLifetime
{
    private TestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task TheFirstStartAdministratorSignsInWithTheOneTimePasswordAndChoosesANewOne()
    {
        await using var ui = await UiSession.OpenAsync(browser, _server, nameof(TheFirstStartAdministratorSignsInWithTheOneTimePasswordAndChoosesANewOne));
        var oneTime = (await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, "admin-password"), Ct)).Trim();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_server.DataDirectory, "admin-password")));

        // Anonymous visitors of a private registry are sent to sign in, and come back afterwards.
        await ui.VisitAsync("/", "signin");
        Assert.Contains("/signin?return=%2F", ui.Page.Url, StringComparison.Ordinal);

        await ui.Page.GetByLabel("User name").FillAsync("admin");
        await ui.Page.GetByLabel("Password", new() { Exact = true }).FillAsync(oneTime);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Assertions.Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Choose a new password" })).ToBeVisibleAsync();
        await ui.CheckAsync("password-change");

        await ui.Page.GetByLabel("One-time password").FillAsync(oneTime);
        await ui.Page.GetByLabel("New password", new() { Exact = true }).FillAsync(UiUsers.Password);
        await ui.Page.GetByLabel("Repeat the new password").FillAsync(UiUsers.Password);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Set password and sign in" }).ClickAsync();
        await ui.Page.WaitForURLAsync(_server.Address + "");
        await Assertions.Expect(ui.Page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Your new password is set" })).ToBeVisibleAsync();
        await Assertions.Expect(ui.Page.GetByText("No models yet.")).ToBeVisibleAsync();
        await Assertions.Expect(ui.Page.Locator(".usermenu")).ToContainTextAsync("admin");
        await ui.CheckAsync("dashboard-empty");

        // The one-time password is gone; the new one works; the session is a token listed as a web session.
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => _server.Client.SignInAsync(new SignInRequest("admin", oneTime), Ct));
        Assert.Equal("sign_in_failed", refused.Code);
        var tokens = await _server.Client.ListTokensAsync(cancellationToken: Ct).ToListAsync(Ct);
        var session = Assert.Single(tokens, t => t.WebSession);
        Assert.Equal(["read", "write", "admin"], session.Scopes);
    }

    [Fact]
    public async Task AWrongPasswordShowsAnErrorAndStartsNoSession()
    {
        await _server.SetAdminPasswordAsync();
        await using var ui = await UiSession.OpenAsync(browser, _server, nameof(AWrongPasswordShowsAnErrorAndStartsNoSession));
        await ui.Page.GotoAsync("/signin");
        await ui.Page.GetByLabel("User name").FillAsync("admin");
        await ui.Page.GetByLabel("Password", new() { Exact = true }).FillAsync("not the password");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();

        await Assertions.Expect(ui.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The user name or password is wrong");
        await Assertions.Expect(ui.Page.GetByLabel("User name")).ToHaveValueAsync("admin");
        await ui.CheckAsync("signin-wrong-password");
        Assert.DoesNotContain(await ui.Context.CookiesAsync(), c => c.Name == "berth_session");
    }

    [Fact]
    public async Task SigningOutEndsTheSessionEvenForACopyOfTheCookie()
    {
        await _server.SetAdminPasswordAsync();
        await using var ui = await UiSession.OpenAsync(browser, _server, nameof(SigningOutEndsTheSessionEvenForACopyOfTheCookie));
        await ui.SignInAsync("admin", UiUsers.Password);
        var cookie = Assert.Single(await ui.Context.CookiesAsync(), c => c.Name == "berth_session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, cookie.SameSite);

        // The cookie authenticates safe API requests (download links work) and never an unsafe one.
        var whoami = await ui.Page.APIRequest.GetAsync("/api/v1/whoami");
        Assert.Equal(200, whoami.Status);
        Assert.Contains("\"name\":\"admin\"", await whoami.TextAsync(), StringComparison.Ordinal);
        var create = await ui.Page.APIRequest.PostAsync("/api/v1/namespaces", new() { DataObject = new { name = "admin" } });
        Assert.Equal(401, create.Status);
        Assert.Contains("token_missing", await create.TextAsync(), StringComparison.Ordinal);

        await ui.Page.Locator("details.menu > summary").ClickAsync();
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.Contains("/signin", StringComparison.Ordinal));
        Assert.DoesNotContain(await ui.Context.CookiesAsync(), c => c.Name == "berth_session");

        // A copy of the old cookie is worthless: its token was revoked.
        var copy = await browser.Browser.NewContextAsync(new() { BaseURL = _server.Address.ToString().TrimEnd('/') });
        await copy.AddCookiesAsync([new Cookie { Name = cookie.Name, Value = cookie.Value, Domain = cookie.Domain, Path = cookie.Path }]);
        var page = await copy.NewPageAsync();
        await page.GotoAsync("/");
        Assert.Contains("/signin", page.Url, StringComparison.Ordinal);
        Assert.Equal(401, (await page.APIRequest.GetAsync("/api/v1/whoami")).Status);
        await copy.CloseAsync();
    }

    [Fact]
    public async Task DisablingTheUserEndsTheSessionAtOnce()
    {
        await _server.CreateWithPasswordAsync("bob");
        await using var ui = await UiSession.OpenAsync(browser, _server, nameof(DisablingTheUserEndsTheSessionAtOnce));
        await ui.SignInAsync("bob", UiUsers.Password);
        await ui.VisitAsync("/", "dashboard-as-bob");

        await _server.Client.UpdateUserAsync("bob", new UpdateUserRequest(Disabled: true), Ct);
        await ui.Page.GotoAsync("/");
        Assert.Contains("/signin", ui.Page.Url, StringComparison.Ordinal);
    }
}
