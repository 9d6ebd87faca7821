using System.Text.RegularExpressions;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>A stand-in identity provider (discovery, authorize, token, JWKS) and a Berth server that offers signing in with it.</summary>
public sealed class OidcSignInFixture : IAsyncLifetime
{
    private OidcProvider? _provider;
    private TestServer? _server;

    public OidcProvider Provider => _provider ?? throw new InvalidOperationException("Not started.");
    public TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        _provider = await OidcProvider.StartAsync();
        _provider.ClientSecret = "s3cret-for-tests";
        _server = await TestServer.StartAsync(_provider.ServerArgs("--Oidc:ProviderName", "Example SSO", "--Oidc:ClientSecret", "s3cret-for-tests"));
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_provider is not null) await _provider.DisposeAsync();
    }
}

/// <summary>
/// "Sign in with …": the authorization-code flow with PKCE, state and nonce, end to end in the browser; the user is linked
/// as a bearer token's would be; every broken answer (denied, another state, another nonce, no flow) leaves the visitor
/// signed out on the sign-in page with a clear message.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class OidcSignInTests(BrowserFixture browser, OidcSignInFixture fixture) : IClassFixture<OidcSignInFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private OidcProvider Provider => fixture.Provider;

    /// <summary>The provider behaves, and signs in a fresh user (so that tests do not see each other's users).</summary>
    private OidcUser Behave(string userName)
    {
        Provider.DenyWith = null;
        Provider.StateOverride = null;
        Provider.NonceOverride = null;
        Provider.User = new OidcUser(Guid.NewGuid().ToString(), userName + "@example.com", userName + "@example.com", "Test " + userName, []);
        return Provider.User;
    }

    private static ILocator SignInButton(UiSession ui) => ui.Page.GetByRole(AriaRole.Link, new() { Name = "Sign in with Example SSO" });

    private static async Task<bool> SignedInAsync(UiSession ui) =>
        await ui.Page.Locator(".usermenu summary").CountAsync() > 0;

    [Fact]
    public async Task SigningInWithTheProviderLandsOnTheDashboardAsTheMappedUserAndComesBackToTheAskedPage()
    {
        var user = Behave("grace");
        var redeemed = Provider.Redeemed;
        const string test = nameof(SigningInWithTheProviderLandsOnTheDashboardAsTheMappedUserAndComesBackToTheAskedPage);
        await using var ui = await UiSession.OpenAsync(browser, fixture.Server, test);
        await ui.VisitAsync("/signin", "signin-with-provider");
        await SignInButton(ui).ClickAsync();
        await ui.Page.WaitForURLAsync(fixture.Server.Address.ToString().TrimEnd('/') + "/");
        await Assertions.Expect(ui.Page.Locator(".usermenu .menu-name")).ToHaveTextAsync("grace");
        await ui.CheckAsync("dashboard-after-provider-sign-in");

        // The flow Berth started: code, S256 PKCE, state, nonce, the scopes; the provider checked the verifier and the secret.
        var asked = Provider.LastAuthorization!;
        Assert.Equal("code", asked["response_type"]);
        Assert.Equal("S256", asked["code_challenge_method"]);
        Assert.Equal(43, asked["code_challenge"].Length);
        Assert.True(asked["state"].Length >= 43 && asked["nonce"].Length >= 43);
        Assert.NotEqual(asked["state"], asked["nonce"]);
        Assert.Equal("openid profile email", asked["scope"]);
        Assert.Equal(fixture.Server.Address.ToString().TrimEnd('/') + "/oidc/callback", asked["redirect_uri"]);
        Assert.Equal(redeemed + 1, Provider.Redeemed);

        // The same user a bearer JWT of that subject is linked to, with the session as its web-session token.
        var details = await fixture.Server.Client.GetUserAsync("grace", Ct);
        Assert.Equal(Provider.Issuer, details.ExternalIssuer);
        Assert.Equal("grace@example.com", details.Email);
        using (var bearer = new BerthClient(new BerthClientOptions { BaseUri = fixture.Server.Address, Token = Provider.Mint(user.Subject, user.UserName) }))
        {
            var tokens = await bearer.ListTokensAsync(cancellationToken: Ct).ToListAsync(Ct);
            Assert.Contains(tokens, t => t.WebSession);
        }

        var audit = await fixture.Server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Contains(audit, e => e.Action == "user.create" && e.Target == "user grace");
        Assert.Contains(audit, e => e.Action == "user.sign_in" && e.Actor == "grace" && e.Details == "{\"via\":\"oidc\"}");

        // Signed out, a page that needs signing in comes back after the provider's sign-in, as the same user.
        await ui.Page.Locator(".usermenu summary").ClickAsync();
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await ui.Page.GotoAsync("/requests");
        await ui.Page.WaitForURLAsync(url => url.Contains("/signin?return=%2Frequests", StringComparison.Ordinal));
        await SignInButton(ui).ClickAsync();
        await ui.Page.WaitForURLAsync(url => url.EndsWith("/requests", StringComparison.Ordinal));
        await Assertions.Expect(ui.Page.Locator(".usermenu .menu-name")).ToHaveTextAsync("grace");
    }

    [Fact]
    public async Task AnAnswerWithAnotherStateIsRefusedWithoutRedeemingTheCode()
    {
        Behave("mallory-state");
        Provider.StateOverride = "a-state-this-browser-never-sent";
        var redeemed = Provider.Redeemed;
        await using var ui = await UiSession.OpenAsync(browser, fixture.Server, nameof(AnAnswerWithAnotherStateIsRefusedWithoutRedeemingTheCode));
        await ui.Page.GotoAsync("/signin");
        await SignInButton(ui).ClickAsync();
        // The flash first: the page starts on /signin, so waiting for that URL could end before the round trip.
        await Assertions.Expect(ui.Page.Locator(".flash-error")).ToHaveTextAsync("The answer from Example SSO does not belong to the sign-in this browser started; try again.");
        await Assertions.Expect(ui.Page).ToHaveURLAsync(new Regex("/signin$"));
        await ui.CheckAsync("signin-state-mismatch");
        Assert.False(await SignedInAsync(ui));
        Assert.Equal(redeemed, Provider.Redeemed);
    }

    [Fact]
    public async Task AnIdTokenWithAnotherNonceIsRefusedAndNobodyIsSignedIn()
    {
        Behave("mallory-nonce");
        Provider.NonceOverride = "a-nonce-of-another-sign-in";
        await using var ui = await UiSession.OpenAsync(browser, fixture.Server, nameof(AnIdTokenWithAnotherNonceIsRefusedAndNobodyIsSignedIn));
        await ui.Page.GotoAsync("/signin");
        await SignInButton(ui).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-error")).ToHaveTextAsync("Example SSO's ID token was not issued for this sign-in (its nonce differs); try again.");
        await Assertions.Expect(ui.Page).ToHaveURLAsync(new Regex("/signin$"));
        Assert.False(await SignedInAsync(ui));
        var problem = await Assert.ThrowsAsync<BerthProblemException>(() => fixture.Server.Client.GetUserAsync("mallory-nonce", Ct));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, problem.Status);
    }

    [Fact]
    public async Task ADenialAtTheProviderAndACallbackThisBrowserDidNotStartLeaveTheVisitorOnTheSignInPage()
    {
        Behave("denied");
        Provider.DenyWith = "access_denied";
        await using var ui = await UiSession.OpenAsync(browser, fixture.Server, nameof(ADenialAtTheProviderAndACallbackThisBrowserDidNotStartLeaveTheVisitorOnTheSignInPage));
        await ui.Page.GotoAsync("/signin?return=%2Facme");
        await SignInButton(ui).ClickAsync();
        await Assertions.Expect(ui.Page.Locator(".flash-error")).ToHaveTextAsync("Example SSO did not sign you in (access denied: The user declined.).");
        await Assertions.Expect(ui.Page).ToHaveURLAsync(new Regex("/signin\\?return=%2Facme$"));
        await ui.CheckAsync("signin-denied");
        Assert.False(await SignedInAsync(ui));

        // A code and state planted by someone else (no flow cookie in this browser): refused before anything is redeemed.
        Behave("planted");
        var redeemed = Provider.Redeemed;
        await ui.Page.GotoAsync("/oidc/callback?code=planted-code&state=planted-state");
        await ui.Page.WaitForURLAsync(url => url.EndsWith("/signin", StringComparison.Ordinal));
        await Assertions.Expect(ui.Page.Locator(".flash-error")).ToHaveTextAsync("The sign-in with Example SSO expired or was not started in this browser; try again.");
        Assert.False(await SignedInAsync(ui));
        Assert.Equal(redeemed, Provider.Redeemed);
    }
}
