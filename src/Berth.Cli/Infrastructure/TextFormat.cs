using System.Globalization;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Infrastructure;

/// <summary>How values look in human output. Times are UTC so that output is the same everywhere.</summary>
internal static class TextFormat
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string Bytes(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : $"{value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture)} {Units[unit]}";
    }

    public static string Count(int count, string singular, string? plural = null) =>
        $"{count} {(count == 1 ? singular : plural ?? singular + "s")}";

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" : "";

    public static string ShortTime(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "";

    /// <summary>How long ago, in the largest whole unit: <c>45s</c>, <c>12m</c>, <c>5h</c>, <c>3d</c>.</summary>
    public static string Age(DateTimeOffset time, DateTimeOffset now)
    {
        var age = now - time;
        return age.TotalSeconds < 60 ? $"{Math.Max(0, (int)age.TotalSeconds)}s" :
            age.TotalMinutes < 60 ? $"{(int)age.TotalMinutes}m" :
            age.TotalHours < 48 ? $"{(int)age.TotalHours}h" :
            $"{(int)age.TotalDays}d";
    }

    public static string YesNo(bool value) => value ? "yes" : "no";

    public static string Seconds(TimeSpan elapsed) =>
        elapsed.TotalSeconds < 10 ? $"{elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s" : $"{elapsed.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s";

    /// <summary>A latency: <c>12 ms</c> below a second, else <c>1.52 s</c>.</summary>
    public static string Milliseconds(double milliseconds) =>
        milliseconds < 1000 ? $"{milliseconds.ToString("0", CultureInfo.InvariantCulture)} ms" : Seconds(TimeSpan.FromMilliseconds(milliseconds));

    /// <summary>A number as the user typed it: shortest round-trip form, invariant culture.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Metrics(IReadOnlyDictionary<string, double> metrics) =>
        string.Join(" ", metrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={Number(m.Value)}"));

    public static string Pairs(IReadOnlyDictionary<string, string> pairs) =>
        string.Join(" ", pairs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    /// <summary>Pointers such as aliases or stages: <c>champion=3 candidate=4</c>.</summary>
    public static string Pointers(IReadOnlyDictionary<string, int> pointers) =>
        string.Join(" ", pointers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    public static string List(IEnumerable<string> values) => string.Join(", ", values);

    /// <summary>Where a version runs: <c>prod-eu (live), prod-us (deploying)</c>; <c>-</c> when nowhere.</summary>
    public static string Deployments(IReadOnlyList<DeploymentState>? deployments) =>
        deployments is { Count: > 0 } ? List(deployments.Select(d => $"{d.Environment} ({d.Status})")) : "-";

    /// <summary>The first line of a (markdown) description, shortened for a table.</summary>
    public static string Summary(string? description, int max = 60)
    {
        if (string.IsNullOrWhiteSpace(description))
        {
            return "";
        }

        return Shorten(description.Trim().Split('\n')[0].Trim(), max);
    }

    /// <summary>Text received from elsewhere (a webhook receiver's answer) on one line, shortened.</summary>
    public static string Excerpt(string? text, int max = 80) =>
        string.IsNullOrWhiteSpace(text) ? "" : Shorten(string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), max);

    private static string Shorten(string line, int max) => line.Length <= max ? line : line[..(max - 1)] + "…";
}
