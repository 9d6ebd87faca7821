using Berth.Contracts.Dtos;
using Berth.Web.Components.Pages.Runs;
using Berth.Web.Rendering;

namespace Berth.Web.Tests.Components;

/// <summary>The run pages' pure pieces: curves from series, smoothing, the clock of a time axis, the layout, default columns, settings.</summary>
public sealed class CurveTests
{
    private static MetricSeries Raw(params (long Step, double Value)[] points) =>
        new("r", "loss", points.Length, points.Select(p => new SeriesPoint(p.Step, 1_000_000 + (p.Step * 1000), p.Value)).ToList(), null);

    [Fact]
    public void SmoothingIsADebiasedMovingAverage()
    {
        Assert.Equal([1.0, 5.0, 3.0], Curves.Smooth([1, 5, 3], 0));
        var smooth = Curves.Smooth([2, 2, 2, 2], 0.9);
        Assert.All(smooth, v => Assert.Equal(2, v, 9));
        // The first value is the first point itself, not pulled towards zero.
        Assert.Equal(10, Curves.Smooth([10, 0], 0.6)[0], 9);
        Assert.Equal(10 * 0.4 * 0.6 / (1 - 0.36), Curves.Smooth([10, 0], 0.6)[1], 9);
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData("abc", 0)]
    [InlineData("0.6", 0.6)]
    [InlineData("1", 0.99)]
    [InlineData("-3", 0)]
    [InlineData("NaN", 0)]
    public void SmoothingWeightsAreClamped(string? text, double expected) => Assert.Equal(expected, Curves.Weight(text));

    [Fact]
    public void RawPointsAreDrawnAsTheyAreAndUndrawableValuesCounted()
    {
        var curve = Curves.From(Raw((0, 1), (1, double.NaN), (2, double.PositiveInfinity), (3, 0.5)), "run", 3, CurveAxis.Step, log: false, null, 0);
        Assert.Equal([0.0, 3.0], curve.Points.Select(p => p.X));
        Assert.Equal(2, curve.Skipped);
        Assert.False(curve.Bucketed);

        // A log scale cannot draw zero or less.
        var log = Curves.From(Raw((0, 0), (1, -1), (2, 10)), "run", 0, CurveAxis.Step, log: true, null, 0);
        Assert.Single(log.Points);
        Assert.Equal(2, log.Skipped);
    }

    [Fact]
    public void BucketsAreDrawnAtTheirMiddleWithTheirExtent()
    {
        var series = new MetricSeries("r", "loss", 300, null,
        [
            new MetricBucket(0, 99, 100, 1, 3, null),
            new MetricBucket(100, 199, 100, null, null, null),
            new MetricBucket(200, 299, 100, 1, 100, null),
        ]);
        var linear = Curves.From(series, "run", 0, CurveAxis.Step, log: false, null, 0);
        Assert.True(linear.Bucketed);
        Assert.Equal(new CurvePoint(49.5, 2, 1, 3, 0, 99), linear.Points[0]);
        Assert.Equal(2, linear.Points.Count);
        Assert.Equal(100, linear.Skipped);
        // On a log scale the middle is the middle of the logarithms.
        Assert.Equal(10, Curves.From(series, "run", 0, CurveAxis.Step, log: true, null, 0).Points[1].Y, 9);
    }

    [Fact]
    public void TheTimeAxisUsesPointTimesAndTheClockForBuckets()
    {
        var raw = Curves.From(Raw((0, 1), (10, 2)), "run", 0, CurveAxis.Time, log: false, null, 1_000_000);
        Assert.Equal([0.0, 10.0], raw.Points.Select(p => p.X));

        var clock = new StepClock([(0, 5_000), (100, 15_000), (200, 35_000)]);
        Assert.Equal(5_000, clock.TimeAt(-10));
        Assert.Equal(10_000, clock.TimeAt(50));
        Assert.Equal(25_000, clock.TimeAt(150));
        Assert.Equal(35_000, clock.TimeAt(1_000));
        Assert.Null(new StepClock([]).TimeAt(3));
        var buckets = new MetricSeries("r", "loss", 200, null, [new MetricBucket(0, 100, 100, 1, 2, null)]);
        Assert.Equal(5, Curves.From(buckets, "run", 0, CurveAxis.Time, log: false, clock, 5_000).Points[0].X);
        // Without a clock a bucket has no time: it is left out.
        Assert.Empty(Curves.From(buckets, "run", 0, CurveAxis.Time, log: false, null, 5_000).Points);
    }

    [Fact]
    public void TheLayoutCoversEveryPointsExtentAndKeepsToTheStepRange()
    {
        var curve = new Curve("run", 0, [new CurvePoint(0, 1, 0.5, 1.5, 0, 0), new CurvePoint(50, 2, 2, 2, 50, 50), new CurvePoint(200, 9, 9, 9, 200, 200)], true, 3, 0);
        var g = new CurveGeometry([curve], CurveAxis.Step, log: false, (0, 100));
        Assert.Equal(2, g.Vertices(curve).Count);
        Assert.True(g.MinY <= 0.5 && g.MaxY >= 2);
        Assert.Equal(CurveGeometry.Left, g.PlotX(0), 9);
        Assert.Equal(CurveGeometry.Width - CurveGeometry.Right, g.PlotX(100), 9);
        Assert.Equal(524, CurveGeometry.Buckets);

        var log = new CurveGeometry([new Curve("run", 0, [new CurvePoint(0, 0.001, 0.001, 0.001, 0, 0), new CurvePoint(1, 10, 10, 10, 1, 1)], false, 2, 0)], CurveAxis.Step, log: true);
        Assert.Equal(["0.001", "0.01", "0.1", "1", "10"], log.YTicks.Select(log.YLabel));

        // Within a decade, round values between the ends.
        var narrow = new CurveGeometry([new Curve("run", 0, [new CurvePoint(0, 0.0037, 0.0037, 0.0037, 0, 0), new CurvePoint(1, 0.0044, 0.0044, 0.0044, 1, 1)], false, 2, 0)], CurveAxis.Step, log: true);
        Assert.Equal(["0.0038", "0.004", "0.0042", "0.0044"], narrow.YTicks.Select(narrow.YLabel));

        var time = new CurveGeometry([new Curve("run", 0, [new CurvePoint(0, 1, 1, 1, 0, 0), new CurvePoint(7200, 1, 1, 1, 1, 1)], false, 2, 0)], CurveAxis.Time, log: false);
        Assert.Equal(["0s", "30m", "1h", "1h 30m", "2h"], time.XTicks.Select(time.XLabel));
    }

    private static RunInfo Run(string id, Dictionary<string, string> parameters, params string[] metrics) =>
        new(id, "acme", "fraud", id, RunStatuses.Finished, DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow, "admin", parameters,
            new Dictionary<string, string>(), metrics.ToDictionary(m => m, _ => new MetricSummary(1, 1, 1, 1, 1)), null, new RunLineage(), null, 1);

    [Fact]
    public void DefaultColumnsAreTheCommonMetricsAndTheParamsThatDiffer()
    {
        var runs = new[]
        {
            Run("a", new() { ["lr"] = "0.1", ["seed"] = "1", ["opt"] = "adam" }, "loss", "auc", "rare"),
            Run("b", new() { ["lr"] = "0.2", ["seed"] = "1", ["opt"] = "adam" }, "loss", "auc"),
            Run("c", new() { ["lr"] = "0.3", ["seed"] = "1" }, "loss", "f1"),
        };
        Assert.Equal(["auc", "loss"], RunColumns.DefaultMetrics(runs, 2));
        Assert.Equal(["lr", "opt"], RunColumns.DefaultParams(runs));
        Assert.Equal(["lr", "opt", "seed"], RunColumns.DefaultParams(runs.Take(1).ToList()));
        Assert.Equal(["a", "b", "c"], RunColumns.Parse(["a,b", " ", "a", "c"], 5));
    }

    [Fact]
    public void ChartSettingsComeFromTheQueryAndGoBackIntoIt()
    {
        var settings = ChartSettings.Parse("time", "log", "0.5", "10", "20", "1");
        Assert.Equal(new ChartSettings(CurveAxis.Time, true, 0.5, 10, 20, true, null), settings);
        Assert.Equal(["x=time", "scale=log", "smooth=0.5", "bands=1", "from=10", "to=20"], settings.Query().Select(p => $"{p.Key}={p.Value}"));
        var backwards = ChartSettings.Parse(null, null, null, "20", "10", null);
        Assert.False(backwards.Zoomed);
        Assert.Contains("ends before it starts", backwards.RangeProblem, StringComparison.Ordinal);
        Assert.Empty(ChartSettings.Parse("STEP", "linear", "0", "x", null, null).Query());
        Assert.Equal("chart-val-auc", ChartSettings.ChartId("val/auc"));
    }

    [Theory]
    [InlineData(0.4, "0.4s")]
    [InlineData(45, "45s")]
    [InlineData(723, "12m 3s")]
    [InlineData(7200, "2h")]
    [InlineData(11_040, "3h 4m")]
    [InlineData(190_800, "2d 5h")]
    public void DurationsUseTheirTwoLargestUnits(double seconds, string expected) => Assert.Equal(expected, Format.Duration(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(950, "950")]
    [InlineData(1500, "1,500")]
    [InlineData(20_000, "20k")]
    [InlineData(1_200_000, "1.2M")]
    [InlineData(0.25, "0.25")]
    public void AxisNumbersAreCompact(double value, string expected) => Assert.Equal(expected, Format.Compact(value));
}
