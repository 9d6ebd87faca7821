using Berth.Contracts.Dtos;
using Berth.Web.Components.Pages.Compare;
using Berth.Web.Components.UI;
using Berth.Web.Rendering;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Web.Tests.Components;

/// <summary>The compare page's pieces: metrics missing in a version, long and unicode names, files by digest, bars without a value.</summary>
public sealed class ComparisonTests : IDisposable
{
    private readonly BunitContext _context = new();

    public ComparisonTests() => _context.Services.AddSingleton(TimeProvider.System);

    public void Dispose() => _context.Dispose();

    private static VersionInfo Version(
        string ns, string model, int number,
        Dictionary<string, double>? metrics = null,
        Dictionary<string, string>? parameters = null,
        IReadOnlyList<FileEntry>? files = null) =>
        new(ns, model, number, null, "sha256:" + new string('0', 64), VersionStates.Ready, null, null, null,
            metrics ?? [], parameters ?? [], new Dictionary<string, string>(), [], new Lineage(), 0, files?.Count ?? 0,
            DateTimeOffset.UtcNow, "admin", DateTimeOffset.UtcNow, 1, files);

    private static FileEntry File(string path, char digit, long size = 10) => new(path, size, "sha256:" + new string(digit, 64));

    [Fact]
    public void AMetricMissingInOneVersionIsADashWithoutDifferenceAndTheOthersStillHaveABest()
    {
        var versions = new[]
        {
            Version("acme", "fraud", 1, new() { ["auc"] = 0.9, ["f1"] = 0.7, ["val_loss"] = 0.3 }),
            Version("acme", "fraud", 2, new() { ["auc"] = 0.92, ["val_loss"] = 0.2 }),
            Version("acme", "fraud", 3, new() { ["auc"] = 0.92, ["f1"] = 0.75, ["val_loss"] = 0.25 }),
        };
        var rows = Comparison.Metrics(versions, Comparison.LowerIsBetterByDefault);
        var cut = _context.Render<MetricComparison>(p => p
            .Add(x => x.Versions, versions)
            .Add(x => x.Labels, Comparison.Labels(versions))
            .Add(x => x.Rows, rows)
            .Add(x => x.FlipHref, m => "/compare?lower=" + m));

        var f1 = cut.FindAll("tbody tr").Single(r => r.QuerySelector("th")!.TextContent.Contains("f1", StringComparison.Ordinal));
        var cells = f1.QuerySelectorAll("td");
        Assert.Contains("no value", cells[1].TextContent, StringComparison.Ordinal);
        Assert.Null(cells[1].QuerySelector(".diff"));
        Assert.Contains("best", cells[2].ClassName, StringComparison.Ordinal);
        Assert.Equal("+0.05", cells[2].QuerySelector(".diff")!.TextContent);

        // Ties are both best; lower is better for a loss, and the difference of a smaller loss counts as better.
        var auc = rows.Single(r => r.Name == "auc");
        Assert.Equal([1, 2], auc.Best.Order());
        var loss = rows.Single(r => r.Name == "val_loss");
        Assert.True(loss.LowerIsBetter);
        Assert.Equal([1], loss.Best);
        var lossRow = cut.FindAll("tbody tr").Single(r => r.QuerySelector("th")!.TextContent.Contains("val_loss", StringComparison.Ordinal));
        Assert.Equal("−0.1", lossRow.QuerySelectorAll("td")[1].QuerySelector(".diff")!.TextContent);
        Assert.Contains("diff-better", lossRow.QuerySelectorAll("td")[1].QuerySelector(".diff")!.ClassName, StringComparison.Ordinal);
        Assert.Equal("/compare?lower=val_loss", lossRow.QuerySelector("a.direction")!.GetAttribute("href"));
        Assert.Equal("lower is better", lossRow.QuerySelector("a.direction")!.TextContent);
    }

    [Fact]
    public void AMetricOnlyOneVersionHasOrThatIsEqualEverywhereHasNoBest()
    {
        var versions = new[] { Version("a1", "m", 1, new() { ["auc"] = 0.5, ["x"] = 1 }), Version("a1", "m", 2, new() { ["x"] = 1 }) };
        var rows = Comparison.Metrics(versions, _ => false);
        Assert.All(rows, r => Assert.Empty(r.Best));
        Assert.Equal(new double?[] { null, null }, rows.Single(r => r.Name == "auc").Differences);
        Assert.Equal(0, rows.Single(r => r.Name == "x").Differences[1]);
    }

    [Fact]
    public void LongAndUnicodeNamesAndValuesAreShownWholeAsText()
    {
        // Names are ASCII (the API's rules) but may be long; values are any text.
        var longMetric = "eval/" + new string('m', 110) + ".auc";
        var hostile = "<b>bold</b> 模型 👩‍🔬 " + new string('x', 300);
        var versions = new[]
        {
            Version("team-one", new string('m', 128), 1, new() { [longMetric] = 1 }, new() { ["optimizer"] = hostile }),
            Version("team-two", "model", 2, new() { [longMetric] = 2 }, new() { ["optimizer"] = "Adam für Überläufe ✓" }),
        };
        var labels = Comparison.Labels(versions);
        Assert.Equal("team-one/" + new string('m', 128) + " v1", labels[0]);

        var metrics = _context.Render<MetricComparison>(p => p
            .Add(x => x.Versions, versions).Add(x => x.Labels, labels)
            .Add(x => x.Rows, Comparison.Metrics(versions, _ => false)).Add(x => x.FlipHref, _ => "#"));
        Assert.Contains(longMetric, metrics.Find("tbody th").TextContent, StringComparison.Ordinal);
        Assert.Equal(labels[0], metrics.FindAll("thead th a")[0].TextContent);

        var parameters = _context.Render<ParamComparison>(p => p
            .Add(x => x.Versions, versions).Add(x => x.Labels, labels).Add(x => x.Rows, Comparison.Params(versions)));
        var cell = parameters.FindAll("tbody td")[0];
        Assert.Equal(hostile, cell.TextContent.Trim());
        Assert.Empty(cell.QuerySelectorAll("b"));
        Assert.Equal("Adam für Überläufe ✓", parameters.FindAll("tbody td")[1].TextContent.Trim());
        Assert.Contains("differs", parameters.Find("tbody tr").ClassName, StringComparison.Ordinal);
        Assert.Contains("1 parameter differs", parameters.Markup, StringComparison.Ordinal);

        var chart = _context.Render<BarChart>(p => p.Add(x => x.Title, longMetric).Add(x => x.Bars, [new BarChart.Bar(labels[0], 1, false), new BarChart.Bar(labels[1], 2, true)]));
        // Bar labels are shortened to fit; the full label stays in the bar's title and the accessible name.
        Assert.Contains(labels[0], chart.Find("svg").GetAttribute("aria-label"), StringComparison.Ordinal);
        Assert.Contains(labels[0], chart.Find("rect title").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void FilesAreComparedByDigestAgainstTheBaseline()
    {
        var versions = new[]
        {
            Version("acme", "m", 1, files: [File("a.bin", '1'), File("same.json", '5'), File("gone.txt", '7')]),
            Version("acme", "m", 2, files: [File("a.bin", '2'), File("same.json", '5'), File("new.txt", '8')]),
            Version("acme", "m", 3, files: [File("a.bin", '1'), File("same.json", '5')]),
        };
        var (rows, identical) = Comparison.Files(versions);
        Assert.Equal(1, identical);
        Assert.Equal(["a.bin", "gone.txt", "new.txt"], rows.Select(r => r.Path));
        Assert.Equal([FileChange.Same, FileChange.Changed, FileChange.Same], rows[0].Changes);
        Assert.Equal([FileChange.Same, FileChange.Removed, FileChange.Removed], rows[1].Changes);
        Assert.Equal([FileChange.Absent, FileChange.Added, FileChange.Absent], rows[2].Changes);

        var cut = _context.Render<FileComparison>(p => p
            .Add(x => x.Versions, versions).Add(x => x.Labels, Comparison.Labels(versions)).Add(x => x.Rows, rows).Add(x => x.Identical, identical));
        Assert.Contains("3 paths differ; 1 file is identical in every version.", cut.Markup, StringComparison.Ordinal);
        Assert.Single(cut.FindAll(".change-added"));
        Assert.Equal(2, cut.FindAll(".change-removed").Count);
    }

    [Fact]
    public void ABarChartDrawsNegativeValuesAndSaysWhichValueIsMissing()
    {
        var cut = _context.Render<BarChart>(p => p.Add(x => x.Title, "delta").Add(x => x.Bars,
        [
            new BarChart.Bar("v1", -0.5, false),
            new BarChart.Bar("v2", null, false),
            new BarChart.Bar("v3", 1.5, true),
        ]));
        var rects = cut.FindAll("rect");
        Assert.Equal(2, rects.Count);
        Assert.All(rects, r => Assert.True(double.Parse(r.GetAttribute("width")!, System.Globalization.CultureInfo.InvariantCulture) > 0));
        Assert.Contains("no value", cut.Markup, StringComparison.Ordinal);
        Assert.Equal("delta: v1 -0.5, v2 no value, v3 1.5 (best)", cut.Find("svg").GetAttribute("aria-label"));
    }

    [Theory]
    [InlineData("val_loss", true)]
    [InlineData("p99-latency", true)]
    [InlineData("eval.mae", true)]
    [InlineData("auc", false)]
    [InlineData("lossless_ratio", false)]
    [InlineData("accuracy", false)]
    public void SmallerIsBetterByDefaultForLossesErrorsAndLatencies(string metric, bool lower) =>
        Assert.Equal(lower, Comparison.LowerIsBetterByDefault(metric));
}
