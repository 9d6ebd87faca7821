using System.Globalization;
using System.Text;

namespace Berth.Web.Rendering;

/// <summary>
/// Lays out a curve chart on the server (the run and run comparison pages): the x domain (steps, or seconds since the
/// start), the y domain over every point's extent (log10 on a log scale), round ticks, and per curve the polyline of its
/// values, the polygon of its min/max band and its smoothed line, in a fixed view box the browser scales. berth.js reads
/// the same numbers back from data attributes (smoothing, hover, drag to zoom), so both draw alike.
/// </summary>
public sealed class CurveGeometry
{
    public const double Width = 600;
    public const double Height = 270;
    public const double Left = 62;
    public const double Right = 14;
    public const double Top = 10;
    public const double Bottom = 30;

    /// <summary>How many buckets a series is read in: one per unit of the plot's width.</summary>
    public const int Buckets = (int)(Width - Left - Right);

    private static readonly double[] DurationSteps =
        [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 345600, 604800, 1209600, 2592000];

    public CurveGeometry(IReadOnlyList<Curve> curves, CurveAxis axis, bool log, (double Min, double Max)? xRange = null)
    {
        Curves = curves;
        Axis = axis;
        Log = log;
        var points = curves.SelectMany(c => c.Points).ToList();
        if (xRange is { } range)
        {
            (MinX, MaxX) = range;
        }
        else if (points.Count > 0)
        {
            (MinX, MaxX) = (points.Min(p => p.X), points.Max(p => p.X));
        }
        else
        {
            (MinX, MaxX) = (0, 1);
        }

        if (MaxX <= MinX)
        {
            (MinX, MaxX) = (MinX - 1, MaxX + 1);
        }

        var ys = points.Where(p => p.X >= MinX && p.X <= MaxX).SelectMany(p => new[] { T(p.Low), T(p.High) }).Where(double.IsFinite).ToList();
        var (minY, maxY) = ys.Count == 0 ? (0.0, 1.0) : (ys.Min(), ys.Max());
        if (maxY <= minY)
        {
            var pad = log ? 0.5 : Math.Abs(minY) > 0 ? Math.Abs(minY) * 0.05 : 1;
            (minY, maxY) = (minY - pad, maxY + pad);
        }

        if (log)
        {
            YTicks = LogTicks(minY, maxY);
        }
        else
        {
            YTicks = ChartGeometry.NiceTicks(minY, maxY, 5);
            (minY, maxY) = (Math.Min(minY, YTicks[0]), Math.Max(maxY, YTicks[^1]));
        }

        (MinY, MaxY) = (minY, maxY);
        XTicks = axis == CurveAxis.Time
            ? DurationTicks(MinX, MaxX)
            : ChartGeometry.NiceTicks(MinX, MaxX, 6).Where(t => t >= MinX && t <= MaxX && Math.Abs(t - Math.Round(t)) < 1e-9).ToList();
    }

    public IReadOnlyList<Curve> Curves { get; }
    public CurveAxis Axis { get; }
    public bool Log { get; }
    public double MinX { get; }
    public double MaxX { get; }

    /// <summary>The y domain in the chart's scale (log10 of the values on a log scale).</summary>
    public double MinY { get; }

    public double MaxY { get; }

    /// <summary>Y ticks in the chart's scale.</summary>
    public IReadOnlyList<double> YTicks { get; }

    public IReadOnlyList<double> XTicks { get; }

    /// <summary>A value in the chart's scale.</summary>
    public double T(double value) => Log ? Math.Log10(value) : value;

    public double PlotX(double x) => Left + ((x - MinX) / (MaxX - MinX) * (Width - Left - Right));

    public double PlotY(double scaled) => Top + ((1 - ((scaled - MinY) / (MaxY - MinY))) * (Height - Top - Bottom));

    public string YLabel(double tick) => Format.Compact(Log ? Math.Pow(10, tick) : tick);

    public string XLabel(double tick) => Axis == CurveAxis.Time ? Format.Duration(TimeSpan.FromSeconds(tick)) : Format.Compact(tick);

    /// <summary>The plotted vertices of a curve's values (points outside the x domain left out).</summary>
    public IReadOnlyList<(double X, double Y)> Vertices(Curve curve) =>
        curve.Points.Where(p => p.X >= MinX && p.X <= MaxX).Select(p => (PlotX(p.X), PlotY(T(p.Y)))).ToList();

    /// <summary>The <c>points</c> of a polyline through <paramref name="vertices"/>.</summary>
    public static string Polyline(IEnumerable<(double X, double Y)> vertices)
    {
        var text = new StringBuilder();
        foreach (var (x, y) in vertices)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(N(x)).Append(',').Append(N(y));
        }

        return text.ToString();
    }

    /// <summary>The smoothed line: the moving average of the vertices' y (the chart's scale is affine, so this is the average of the values, as berth.js computes it).</summary>
    public static string Smoothed(IReadOnlyList<(double X, double Y)> vertices, double weight)
    {
        var smooth = Rendering.Curves.Smooth(vertices.Select(v => v.Y).ToList(), weight);
        return Polyline(vertices.Select((v, i) => (v.X, smooth[i])));
    }

    /// <summary>The polygon of a bucketed curve's min/max band: along the maxima, back along the minima.</summary>
    public string Band(Curve curve)
    {
        var inside = curve.Points.Where(p => p.X >= MinX && p.X <= MaxX).ToList();
        return Polyline(inside.Select(p => (PlotX(p.X), PlotY(T(p.High))))
            .Concat(Enumerable.Reverse(inside).Select(p => (PlotX(p.X), PlotY(T(p.Low))))));
    }

    public static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>Ticks at powers of ten (with 2 and 5 between them over a short range), in log10 units.</summary>
    private static IReadOnlyList<double> LogTicks(double min, double max)
    {
        var ticks = new List<double>();
        var decades = max - min;
        foreach (var m in decades <= 2 ? new[] { 1.0, 2, 5 } : [1.0])
        {
            for (var e = Math.Floor(min); e <= Math.Ceiling(max); e++)
            {
                var t = e + Math.Log10(m);
                if (t >= min - 1e-9 && t <= max + 1e-9)
                {
                    ticks.Add(t);
                }
            }
        }

        ticks.Sort();
        if (ticks.Count > 8)
        {
            var every = (int)Math.Ceiling(ticks.Count / 6.0);
            ticks = ticks.Where((_, i) => i % every == 0).ToList();
        }

        if (ticks.Count >= 3)
        {
            return ticks;
        }

        // Less than a decade: round values spread evenly between the ends, placed on the log scale.
        var linear = ChartGeometry.NiceTicks(Math.Pow(10, min), Math.Pow(10, max), 5)
            .Where(t => t > 0).Select(Math.Log10).Where(t => t >= min - 1e-9 && t <= max + 1e-9).ToList();
        return linear.Count >= 2 ? linear : [min, max];
    }

    /// <summary>About six ticks over [min, max] seconds at round durations (10s, 5m, 1h, 1d …).</summary>
    private static IReadOnlyList<double> DurationTicks(double min, double max)
    {
        var step = DurationSteps.FirstOrDefault(s => (max - min) / s <= 6);
        if (step == 0)
        {
            step = Math.Ceiling((max - min) / 6 / 86400) * 86400;
        }

        var ticks = new List<double>();
        for (var t = Math.Ceiling(min / step) * step; t <= max + 1e-9 && ticks.Count < 20; t += step)
        {
            ticks.Add(t);
        }

        return ticks;
    }
}
