using System.Net;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Web.Hosting;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>Headers, assets, error pages and reserved names: what every page shares.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SecurityTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PagesCarryAStrictContentSecurityPolicyAndRunWithoutConsoleErrors()
    {
        await using var ui = await UiSession.OpenAsync(browser, catalog.Server, nameof(PagesCarryAStrictContentSecurityPolicyAndRunWithoutConsoleErrors));
        await ui.SignInAsync("admin", UiUsers.Password);
        var response = await ui.VisitAsync("/acme/fraud-detector", "model-headers");
        var headers = await response.AllHeadersAsync();
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, headers["content-security-policy"]);
        Assert.Contains("default-src 'self'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Equal("same-origin", headers["referrer-policy"]);
        Assert.Contains("no-store", headers["cache-control"], StringComparison.Ordinal);

        // No inline script or style anywhere in the page as the server sends it.
        var html = await (await ui.Page.APIRequest.GetAsync("/acme/fraud-detector")).TextAsync();
        Assert.DoesNotMatch("<script(?![^>]*\\ssrc=)", html);
        Assert.DoesNotMatch("<style|\\sstyle=|\\son[a-z]+=", html);
        Assert.Empty(ui.ConsoleErrors);
    }

    [Fact]
    public async Task AssetsAreVersionedImmutableAndCompressed()
    {
        using var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = catalog.Server.Address };
        var html = await http.GetStringAsync("/signin", Ct);
        var css = System.Text.RegularExpressions.Regex.Match(html, "/static/berth\\.[0-9a-f]{16}\\.css").Value;
        Assert.NotEmpty(css);

        using var request = new HttpRequestMessage(HttpMethod.Get, css);
        request.Headers.AcceptEncoding.ParseAdd("br, gzip");
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("br", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Contains("immutable", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.Equal("text/css", response.Content.Headers.ContentType!.MediaType);

        // The scoped CSS of the components is part of the one stylesheet.
        var plain = await http.GetStringAsync(css, Ct);
        Assert.Contains(".model-row[b-", plain, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/static/berth.0000000000000000.css", Ct)).StatusCode);
    }

    [Fact]
    public async Task UnknownPagesAreNotFoundPagesInTheLayoutWhileTheApiKeepsItsProblems()
    {
        await using var ui = await UiSession.OpenAsync(browser, catalog.Server, nameof(UnknownPagesAreNotFoundPagesInTheLayoutWhileTheApiKeepsItsProblems));
        await ui.SignInAsync("admin", UiUsers.Password);
        await ui.VisitAsync("/a/b/c/d", "not-found", 404);
        await Assertions.Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        await Assertions.Expect(ui.Page.Locator(".error-message")).ToContainTextAsync("/a/b/c/d");
        await ui.VisitAsync("/acme/no-such-model", "model-not-found", 404);
        await Assertions.Expect(ui.Page.Locator(".error-message")).ToContainTextAsync("acme/no-such-model");

        var api = await ui.Page.APIRequest.GetAsync("/api/v1/no-such-endpoint");
        Assert.Equal(404, api.Status);
        Assert.StartsWith("application/problem+json", api.Headers["content-type"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task NamespacesThatWouldShadowAPageAreReserved()
    {
        foreach (var name in new[] { "compare", "signin", "static", "api", "settings" })
        {
            var refused = await Assert.ThrowsAsync<BerthProblemException>(() => catalog.Server.Client.CreateNamespaceAsync(new CreateNamespaceRequest(name), Ct));
            Assert.Equal("invalid_name", refused.Code);
            Assert.Contains("reserved", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnonymousVisitorsOfAPrivateRegistryAreSentToSignIn()
    {
        await using var ui = await UiSession.OpenAsync(browser, catalog.Server, nameof(AnonymousVisitorsOfAPrivateRegistryAreSentToSignIn));
        await ui.Page.GotoAsync("/acme/fraud-detector");
        Assert.EndsWith("/signin?return=%2Facme%2Ffraud-detector", ui.Page.Url, StringComparison.Ordinal);
        await ui.SignInAsync("rita", UiUsers.Password);
        Assert.EndsWith("/acme/fraud-detector", ui.Page.Url, StringComparison.Ordinal);
    }
}
