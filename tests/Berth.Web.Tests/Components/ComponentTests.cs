using Berth.Core.Registry;
using Berth.Web.Components.UI;
using Berth.Web.Rendering;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Web.Tests.Components;

/// <summary>Rendering edge cases of the shared components: empty lists, very long names, unicode, hostile text, 10,000 points.</summary>
public sealed class ComponentTests : IDisposable
{
    private readonly BunitContext _context = new();

    public ComponentTests()
    {
        _context.Services.AddSingleton(TimeProvider.System);
        _context.Services.AddSingleton<MarkdownRenderer>();
    }

    public void Dispose() => _context.Dispose();

    private static ModelSummary Model(string ns, string name, string? description = null) => new(
        ns, name, description, new Dictionary<string, string>(), 0, null, null, new Dictionary<string, int>(), new Dictionary<string, int>(), DateTimeOffset.UtcNow, null, null);

    [Fact]
    public void AnEmptyModelListRendersNoRows()
    {
        var cut = _context.Render<ModelList>(p => p.Add(x => x.Models, []));
        Assert.Empty(cut.FindAll("li.model-row"));
    }

    [Fact]
    public void VeryLongNamesAndUnicodeAreShownWhole_AndMarkupInThemIsText()
    {
        var longName = new string('m', 128);
        var description = "Détecteur de fraude — 模型 ✓ <b>bold?</b> 👩‍🔬";
        var cut = _context.Render<ModelList>(p => p.Add(x => x.Models, [Model("acme", longName, description)]));
        Assert.Contains(longName, cut.Find(".model-name a").TextContent, StringComparison.Ordinal);
        Assert.Equal("/acme/" + longName, cut.Find(".model-name a").GetAttribute("href"));
        var excerpt = cut.Find(".model-excerpt");
        Assert.Equal(description, excerpt.TextContent);
        Assert.Empty(excerpt.QuerySelectorAll("b"));
        Assert.Contains("no ready version", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void TheLastPageHasNoNextLinkAndLaterPagesLinkBackToTheFirst()
    {
        var last = _context.Render<NextPageLink>(p => p.Add(x => x.Cursor, null).Add(x => x.NextHref, c => "?cursor=" + c));
        Assert.Empty(last.FindAll("a"));

        var middle = _context.Render<NextPageLink>(p => p
            .Add(x => x.Cursor, "c1ab+/=")
            .Add(x => x.NextHref, c => "/acme?cursor=" + Uri.EscapeDataString(c))
            .Add(x => x.OnLaterPage, true)
            .Add(x => x.FirstHref, "/acme"));
        var links = middle.FindAll("a");
        Assert.Equal(["/acme", "/acme?cursor=c1ab%2B%2F%3D"], links.Select(a => a.GetAttribute("href")));
        Assert.Equal("next", links[1].GetAttribute("rel"));
    }

    [Fact]
    public void AChartOfTenThousandVersionsDrawsEveryPointInsideTheViewBox()
    {
        var points = Enumerable.Range(1, 10_000).Select(n => new ChartPoint(n, Math.Sin(n / 100.0), $"v{n}")).ToList();
        var cut = _context.Render<LineChart>(p => p.Add(x => x.Series, [new ChartSeries("auc", points)]).Add(x => x.Title, "auc"));
        var circles = cut.FindAll("svg circle");
        Assert.Equal(10_000, circles.Count);
        foreach (var circle in circles)
        {
            var cx = double.Parse(circle.GetAttribute("cx")!, System.Globalization.CultureInfo.InvariantCulture);
            var cy = double.Parse(circle.GetAttribute("cy")!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(cx, ChartGeometry.Left, ChartGeometry.Width - ChartGeometry.Right);
            Assert.InRange(cy, ChartGeometry.Top, ChartGeometry.Height - ChartGeometry.Bottom);
        }

        Assert.Equal("auc", cut.Find("svg").GetAttribute("aria-label"));
    }

    [Fact]
    public void AChartWithoutValuesSaysSo_AndASingleValueStillHasAScale()
    {
        var empty = _context.Render<LineChart>(p => p.Add(x => x.Series, []).Add(x => x.Title, "auc"));
        Assert.Contains("No values to chart yet.", empty.Markup, StringComparison.Ordinal);

        var single = _context.Render<LineChart>(p => p.Add(x => x.Series, [new ChartSeries("auc", [new ChartPoint(1, 0.5, "v1")])]).Add(x => x.Title, "auc"));
        var circle = single.Find("svg circle");
        Assert.False(double.IsNaN(double.Parse(circle.GetAttribute("cy")!, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void TheMarkdownComponentShowsItsEmptyContentWhenThereIsNoText()
    {
        var cut = _context.Render<Markdown>(p => p.Add(x => x.Text, "  ").Add(x => x.Empty, b => b.AddContent(0, "No card")));
        Assert.Equal("No card", cut.Markup.Trim());
    }
}
