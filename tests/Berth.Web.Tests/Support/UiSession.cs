using System.Text.RegularExpressions;
using Berth.Api.Tests.Support;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Berth.Web.Tests.Support;

/// <summary>
/// A browser context on a test server, with the checks every page must pass: the expected status, no console error (a
/// Content-Security-Policy violation is one), no serious or critical axe-core violation; and a screenshot of each page
/// in light and dark, at desktop (1280 px) and phone (375 px) width.
/// </summary>
public sealed class UiSession : IAsyncDisposable
{
    private readonly List<string> _consoleErrors = [];
    private readonly string _test;

    private UiSession(TestServer server, IBrowserContext context, IPage page, string test)
    {
        Server = server;
        Context = context;
        Page = page;
        _test = test;
        page.Console += (_, message) =>
        {
            // The browser logs every error status, the page's own too (a 404 page is the expected answer); failed
            // subresources are caught below instead.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource: the server responded with a status of", StringComparison.Ordinal))
            {
                _consoleErrors.Add(message.Text);
            }
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400 && !response.Request.IsNavigationRequest)
            {
                _consoleErrors.Add($"{response.Status} for {response.Url}");
            }
        };
        page.PageError += (_, error) => _consoleErrors.Add(error);
    }

    public TestServer Server { get; }
    public IBrowserContext Context { get; }
    public IPage Page { get; }

    public IReadOnlyList<string> ConsoleErrors => _consoleErrors;

    /// <param name="javaScript">False: a browser without JavaScript (pages must work without it; axe needs it, so <see cref="CheckAsync"/> cannot run).</param>
    public static async Task<UiSession> OpenAsync(BrowserFixture browser, TestServer server, string test, bool javaScript = true)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            JavaScriptEnabled = javaScript,
            BaseURL = server.Address.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            ColorScheme = ColorScheme.Light,
            // The clipboard is used by copy buttons; granting it keeps them enabled as for a person.
            Permissions = ["clipboard-read", "clipboard-write"],
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        return new UiSession(server, context, page, test);
    }

    /// <summary>Opens a page and checks it (status, console, axe), then saves its four screenshots as <paramref name="name"/>.</summary>
    public async Task<IResponse> VisitAsync(string path, string name, int status = 200)
    {
        var response = await Page.GotoAsync(path) ?? throw new InvalidOperationException($"No response for {path}.");
        Assert.Equal(status, response.Status);
        await CheckAsync(name);
        return response;
    }

    /// <summary>Checks the page the browser shows now and saves its screenshots.</summary>
    public async Task CheckAsync(string name)
    {
        await Page.WaitForLoadStateAsync(LoadState.Load);
        var axe = await Page.RunAxe();
        var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Take(3).Select(n => n.Target?.ToString()))}")
            .ToList();
        Assert.True(serious.Count == 0, $"axe found serious or critical problems on '{name}' ({Page.Url}):\n" + string.Join("\n", serious));
        Assert.True(_consoleErrors.Count == 0, $"Console errors on '{name}' ({Page.Url}):\n" + string.Join("\n", _consoleErrors));
        await ScreenshotsAsync(name);
    }

    /// <summary>
    /// Full-page screenshots: light at 1280 px and dark at 375 px wide, or light and dark at both widths with
    /// BERTH_TEST_SCREENSHOTS_ALL=1 (four full-page images of every checked page cost the browser tests minutes).
    /// </summary>
    public async Task ScreenshotsAsync(string name)
    {
        var folder = Screenshots.Folder(_test);
        var file = Regex.Replace(name, "[^A-Za-z0-9_-]+", "-");
        var original = Page.ViewportSize;
        foreach (var (scheme, schemeName, width, widthName) in Screenshots.Variants)
        {
            await Page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = scheme });
            await Page.SetViewportSizeAsync(width, width == 375 ? 812 : 900);
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"{file}-{schemeName}-{widthName}.png"), FullPage = true });
        }

        await Page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Light });
        if (original is not null)
        {
            await Page.SetViewportSizeAsync(original.Width, original.Height);
        }
    }

    /// <summary>Signs in through the sign-in page; with <paramref name="newPassword"/>, also through the forced password change.</summary>
    public async Task SignInAsync(string user, string password, string? newPassword = null)
    {
        if (!Page.Url.Contains("/signin", StringComparison.Ordinal))
        {
            await Page.GotoAsync("/signin");
        }

        await Page.GetByLabel("User name").FillAsync(user);
        await Page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        if (newPassword is not null)
        {
            await Page.GetByLabel("One-time password").FillAsync(password);
            await Page.GetByLabel("New password", new() { Exact = true }).FillAsync(newPassword);
            await Page.GetByLabel("Repeat the new password").FillAsync(newPassword);
            await Page.GetByRole(AriaRole.Button, new() { Name = "Set password and sign in" }).ClickAsync();
        }

        await Page.WaitForURLAsync(url => !url.Contains("/signin", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();
}
