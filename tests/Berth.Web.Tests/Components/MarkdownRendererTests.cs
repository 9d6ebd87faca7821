using Berth.Web.Rendering;

namespace Berth.Web.Tests.Components;

/// <summary>User markdown is rendered without raw HTML, scripts or dangerous links.</summary>
public sealed class MarkdownRendererTests
{
    private readonly MarkdownRenderer _renderer = new();

    [Theory]
    [InlineData("[x](javascript:alert(1))")]
    [InlineData("[x](JAVASCRIPT:alert(1))")]
    [InlineData("[x](java&#x09;script:alert(1))")]
    [InlineData("[x](&#106;avascript:alert(1))")]
    [InlineData("[x](<javascript:alert(1)>)")]
    [InlineData("<javascript:alert(1)>")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    [InlineData("[x](vbscript:msgbox(1))")]
    [InlineData("[x]: javascript:alert(1)\n\n[x]")]
    public void DangerousLinksBecomeText(string markdown)
    {
        var html = _renderer.ToHtml(markdown);
        Assert.DoesNotContain("href=\"javascript", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=\"data", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=\"vbscript", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=\"java", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void RawHtmlIsShownAsText()
    {
        var html = _renderer.ToHtml("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> <a href=\"javascript:x\">a</a>");
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<a ", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public void SafeLinksStay_AbsoluteOnesWithoutReferrer_AndImagesBecomeLinks()
    {
        var html = _renderer.ToHtml("[a](https://example.com/x) [b](mailto:me@example.com) [c](/acme/fraud) [d](#usage) ![e](https://example.com/e.png)");
        Assert.Contains("<a href=\"https://example.com/x\" rel=\"nofollow noopener noreferrer\">a</a>", html, StringComparison.Ordinal);
        Assert.Contains("href=\"mailto:me@example.com\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/acme/fraud\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"#usage\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.Contains(">e</a>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadingsMoveOneLevelDownAndTablesRender()
    {
        var html = _renderer.ToHtml("# Card\n\n###### Deep\n\n| a | b |\n| - | - |\n| 1 | 2 |");
        Assert.Contains("<h2", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<h1", html, StringComparison.Ordinal);
        Assert.Contains("<h6", html, StringComparison.Ordinal);
        Assert.Contains("<table>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void NothingRendersNothing() => Assert.Equal("", _renderer.ToHtml(null));
}
