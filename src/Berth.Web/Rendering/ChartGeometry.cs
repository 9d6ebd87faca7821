using System.Globalization;

namespace Berth.Web.Rendering;

/// <summary>One point of a chart: x (e.g. a version number), y, and the label shown on hover.</summary>
public sealed record ChartPoint(double X, double Y, string Label);

/// <summary>A named line of a chart.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<ChartPoint> Points);

/// <summary>
/// Lays out an SVG line chart on the server: scales, "nice" ticks and the polyline of each series, in a fixed
/// view box that the browser scales to the container. No script is needed to draw it; points carry titles for hover.
/// </summary>
public sealed class ChartGeometry
{
    public const double Width = 640;
    public const double Height = 240;
    public const double Left = 56;
    public const double Right = 16;
    public const double Top = 12;
    public const double Bottom = 32;

    public ChartGeometry(IReadOnlyList<ChartSeries> series)
    {
        Series = series;
        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        if (points.Count == 0)
        {
            (MinX, MaxX, MinY, MaxY) = (0, 1, 0, 1);
        }
        else
        {
            (MinX, MaxX) = (points.Min(p => p.X), points.Max(p => p.X));
            (MinY, MaxY) = (points.Min(p => p.Y), points.Max(p => p.Y));
        }

        if (MaxX <= MinX)
        {
            (MinX, MaxX) = (MinX - 1, MaxX + 1);
        }

        if (MaxY <= MinY)
        {
            var pad = Math.Abs(MinY) > 0 ? Math.Abs(MinY) * 0.05 : 1;
            (MinY, MaxY) = (MinY - pad, MaxY + pad);
        }

        YTicks = NiceTicks(MinY, MaxY, 5);
        (MinY, MaxY) = (Math.Min(MinY, YTicks[0]), Math.Max(MaxY, YTicks[^1]));
        XTicks = NiceTicks(MinX, MaxX, 6).Where(t => t >= MinX && t <= MaxX && Math.Abs(t - Math.Round(t)) < 1e-9).ToList();
    }

    public IReadOnlyList<ChartSeries> Series { get; }
    public double MinX { get; }
    public double MaxX { get; }
    public double MinY { get; }
    public double MaxY { get; }
    public IReadOnlyList<double> YTicks { get; }
    public IReadOnlyList<double> XTicks { get; }

    public double PlotX(double x) => Left + ((x - MinX) / (MaxX - MinX) * (Width - Left - Right));

    public double PlotY(double y) => Top + ((1 - ((y - MinY) / (MaxY - MinY))) * (Height - Top - Bottom));

    /// <summary>The <c>points</c> attribute of a series' polyline.</summary>
    public string Polyline(ChartSeries series) =>
        string.Join(' ', series.Points.Where(p => double.IsFinite(p.Y)).Select(p => N(PlotX(p.X)) + "," + N(PlotY(p.Y))));

    public static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>About <paramref name="count"/> round tick values covering [min, max] (1, 2 or 5 times a power of ten apart).</summary>
    public static IReadOnlyList<double> NiceTicks(double min, double max, int count)
    {
        var span = max - min;
        if (!(span > 0) || !double.IsFinite(span))
        {
            return [min];
        }

        var rough = span / Math.Max(1, count - 1);
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = new[] { 1.0, 2, 5, 10 }.Select(m => m * power).First(s => s >= rough);
        var start = Math.Floor(min / step) * step;
        var ticks = new List<double>();
        for (var t = start; t <= max + (step / 2) && ticks.Count < 50; t += step)
        {
            ticks.Add(Math.Round(t, 10));
        }

        return ticks;
    }
}
