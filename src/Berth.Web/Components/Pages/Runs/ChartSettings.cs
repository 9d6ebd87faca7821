using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Berth.Web.Rendering;

namespace Berth.Web.Components.Pages.Runs;

/// <summary>
/// The curve settings of a run page or a run comparison, read from the query: <c>x=step|time</c>, <c>scale=log</c>,
/// <c>smooth=0…0.99</c>, <c>from</c> and <c>to</c> (a step range: the series are read again over it, at full resolution
/// as far as the chart's width allows) and <c>bands=1</c>. A step range whose ends are the wrong way round is ignored and
/// said so (<see cref="RangeProblem"/>).
/// </summary>
public sealed partial record ChartSettings(CurveAxis Axis, bool Log, double Smoothing, long? From, long? To, bool Bands, string? RangeProblem)
{
    public static ChartSettings Parse(string? x, string? scale, string? smooth, string? from, string? to, string? bands)
    {
        var axis = string.Equals(x, "time", StringComparison.OrdinalIgnoreCase) ? CurveAxis.Time : CurveAxis.Step;
        var lo = Step(from);
        var hi = Step(to);
        string? problem = null;
        if (lo is { } l && hi is { } h && l > h)
        {
            problem = $"The step range {l.ToString(CultureInfo.InvariantCulture)} to {h.ToString(CultureInfo.InvariantCulture)} ends before it starts; the whole range is shown.";
            (lo, hi) = (null, null);
        }

        return new ChartSettings(axis, string.Equals(scale, "log", StringComparison.OrdinalIgnoreCase), Curves.Weight(smooth), lo, hi, bands is "1" or "true", problem);
    }

    public bool Zoomed => From is not null || To is not null;

    /// <summary>The settings as query pairs (defaults left out), to carry them in links and forms.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Query(bool withRange = true)
    {
        if (Axis == CurveAxis.Time)
        {
            yield return new("x", "time");
        }

        if (Log)
        {
            yield return new("scale", "log");
        }

        if (Smoothing > 0)
        {
            yield return new("smooth", Smoothing.ToString("0.##", CultureInfo.InvariantCulture));
        }

        if (Bands)
        {
            yield return new("bands", "1");
        }

        if (withRange)
        {
            if (From is { } f)
            {
                yield return new("from", f.ToString(CultureInfo.InvariantCulture));
            }

            if (To is { } t)
            {
                yield return new("to", t.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>"step:seconds …" pairs of a run's clock (at most <paramref name="max"/>) for berth.js to turn a dragged time range into steps.</summary>
    public static string? ClockAttribute(StepClock? clock, long startMs, int max = 64)
    {
        if (clock is null || clock.Samples.Count == 0)
        {
            return null;
        }

        var samples = clock.Samples;
        var count = Math.Min(max, samples.Count);
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var (step, time) = samples[count == 1 ? 0 : (int)((long)i * (samples.Count - 1) / (count - 1))];
            text.Append(i == 0 ? "" : " ").Append(step.ToString(CultureInfo.InvariantCulture)).Append(':')
                .Append(((time - startMs) / 1000.0).ToString("0.###", CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>An element id for a metric's chart: <c>chart-</c> and the key's letters and digits (others become '-').</summary>
    public static string ChartId(string key) => "chart-" + NotIdCharacter().Replace(key, "-");

    private static long? Step(string? text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    [GeneratedRegex("[^A-Za-z0-9_-]")]
    private static partial Regex NotIdCharacter();
}
