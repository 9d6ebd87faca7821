using Berth.Contracts.Dtos;

namespace Berth.Web.Rendering;

/// <summary>What a curve chart's x axis shows: the step, or the wall-clock time since the run started.</summary>
public enum CurveAxis
{
    Step,
    Time,
}

/// <summary>
/// One point of a curve: x (a step, or seconds since the run started), the value drawn, and the extent of the values it
/// stands for — a downsampled bucket's min and max (the value drawn is their middle in the chart's scale), or the value
/// itself for a raw point — with the steps it covers.
/// </summary>
public readonly record struct CurvePoint(double X, double Y, double Low, double High, long FirstStep, long LastStep);

/// <summary>
/// One line of a curve chart: a run's series of one metric, named for the legend, in one of the chart colours (0–19), its
/// points in x order. <see cref="Bucketed"/>: the points are min/max buckets (the chart draws their extent as a band).
/// <see cref="Count"/>: the series' points in the range; <see cref="Skipped"/>: values not drawn (NaN, infinite, or not
/// positive on a log scale).
/// </summary>
public sealed record Curve(string Name, int Colour, IReadOnlyList<CurvePoint> Points, bool Bucketed, long Count, long Skipped);

/// <summary>When a run reached its steps, from (step, time) samples (<c>RunClock</c>): exact at a sample, linear between, clamped outside.</summary>
public sealed class StepClock(IReadOnlyList<(long Step, long Time)> samples)
{
    public IReadOnlyList<(long Step, long Time)> Samples { get; } = samples;

    /// <summary>The time (milliseconds since the Unix epoch) at <paramref name="step"/>; null without samples.</summary>
    public double? TimeAt(double step)
    {
        if (Samples.Count == 0)
        {
            return null;
        }

        if (step <= Samples[0].Step)
        {
            return Samples[0].Time;
        }

        if (step >= Samples[^1].Step)
        {
            return Samples[^1].Time;
        }

        int lo = 0, hi = Samples.Count - 1;
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            if (Samples[mid].Step <= step)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        var (s0, t0) = Samples[lo];
        var (s1, t1) = Samples[hi];
        return t0 + ((t1 - t0) * (step - s0) / (s1 - s0));
    }
}

/// <summary>Turns series read from the metric store into curves, and smooths them (pure functions, tested without a server).</summary>
public static class Curves
{
    /// <summary>
    /// A curve of <paramref name="series"/>: raw points as they are; buckets at their middle step with their min/max extent.
    /// On the time axis x is seconds since <paramref name="startMs"/>: a raw point's own time, a bucket's time from
    /// <paramref name="clock"/> (a bucket is left out without one).
    /// </summary>
    public static Curve From(MetricSeries series, string name, int colour, CurveAxis axis, bool log, StepClock? clock, long startMs)
    {
        var points = new List<CurvePoint>();
        long skipped = 0;
        if (series.Points is { } raw)
        {
            foreach (var p in raw)
            {
                if (!double.IsFinite(p.Value) || (log && p.Value <= 0))
                {
                    skipped++;
                    continue;
                }

                var x = axis == CurveAxis.Step ? p.Step : (p.Time - startMs) / 1000.0;
                points.Add(new CurvePoint(x, p.Value, p.Value, p.Value, p.Step, p.Step));
            }
        }

        foreach (var b in series.Buckets ?? [])
        {
            var low = b.Min is { } min && double.IsFinite(min) ? min : b.Max;
            var high = b.Max is { } max && double.IsFinite(max) ? max : b.Min;
            if (low is not { } l || high is not { } h || !double.IsFinite(l) || !double.IsFinite(h) || (log && h <= 0))
            {
                skipped += b.Count;
                continue;
            }

            if (log && l <= 0)
            {
                l = h;
            }

            var middle = (b.FirstStep + b.LastStep) / 2.0;
            double x;
            if (axis == CurveAxis.Step)
            {
                x = middle;
            }
            else if (clock?.TimeAt(middle) is { } at)
            {
                x = (at - startMs) / 1000.0;
            }
            else
            {
                continue;
            }

            var y = log ? Math.Sqrt(l * h) : (l + h) / 2;
            points.Add(new CurvePoint(x, y, l, h, b.FirstStep, b.LastStep));
        }

        if (axis == CurveAxis.Time)
        {
            points.Sort((a, b) => a.X.CompareTo(b.X));
        }

        return new Curve(name, colour, points, series.Buckets is not null, series.Count, skipped);
    }

    /// <summary>
    /// An exponential moving average of <paramref name="values"/> with weight <paramref name="weight"/> (0: none, towards 1:
    /// smoother), debiased at the start as TensorBoard does, so the first values are not pulled towards zero.
    /// </summary>
    public static double[] Smooth(IReadOnlyList<double> values, double weight)
    {
        var result = new double[values.Count];
        if (weight <= 0)
        {
            for (var i = 0; i < values.Count; i++)
            {
                result[i] = values[i];
            }

            return result;
        }

        double last = 0;
        var correction = 1.0;
        for (var i = 0; i < values.Count; i++)
        {
            last = (last * weight) + ((1 - weight) * values[i]);
            correction *= weight;
            result[i] = last / (1 - correction);
        }

        return result;
    }

    /// <summary>The smoothing weight of a query value: 0 when absent or unreadable, else clamped to [0, 0.99].</summary>
    public static double Weight(string? text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var w) && double.IsFinite(w)
            ? Math.Clamp(Math.Round(w, 2), 0, 0.99)
            : 0;
}
