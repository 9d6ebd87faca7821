using System.Globalization;

namespace Berth.Web.Rendering;

/// <summary>How the UI writes times, sizes, digests and numbers; one place, so every page says them alike.</summary>
public static class Format
{
    /// <summary>"just now", "5 minutes ago", "3 days ago", or the date for anything older than a month.</summary>
    public static string Relative(DateTimeOffset at, DateTimeOffset now)
    {
        var age = now - at;
        if (age < TimeSpan.Zero)
        {
            return "just now";
        }

        return age.TotalSeconds switch
        {
            < 45 => "just now",
            < 90 => "a minute ago",
            < 3600 => $"{(int)Math.Round(age.TotalMinutes)} minutes ago",
            < 5400 => "an hour ago",
            < 86400 => $"{(int)Math.Round(age.TotalHours)} hours ago",
            < 172800 => "yesterday",
            < 2592000 => $"{(int)Math.Round(age.TotalDays)} days ago",
            _ => "on " + at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>The exact time, in UTC (for a <c>title</c> or a <c>datetime</c>).</summary>
    public static string Absolute(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>1,023 B · 1.5 KB · 12 MB · 3.4 GB (powers of 1024).</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? bytes.ToString("N0", CultureInfo.InvariantCulture) + " B"
            : value.ToString(value < 10 ? "0.#" : "0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    /// <summary><c>sha256:</c> and the first 12 hex digits.</summary>
    public static string ShortDigest(string digest)
    {
        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        var hex = colon < 0 ? digest : digest[(colon + 1)..];
        var prefix = colon < 0 ? "" : digest[..(colon + 1)];
        return hex.Length <= 12 ? digest : prefix + hex[..12];
    }

    /// <summary>A metric value: up to 4 significant decimals, no exponent for ordinary sizes.</summary>
    public static string Number(double value) =>
        double.IsFinite(value)
            ? Math.Abs(value) is >= 1e-4 and < 1e9 or 0 ? value.ToString("0.####", CultureInfo.InvariantCulture) : value.ToString("G4", CultureInfo.InvariantCulture)
            : value.ToString(CultureInfo.InvariantCulture);

    /// <summary>At most <paramref name="max"/> characters of the first paragraph of a markdown text, without markup characters.</summary>
    public static string Excerpt(string? markdown, int max = 160)
    {
        if (string.IsNullOrWhiteSpace(markdown))
        {
            return "";
        }

        var lines = markdown.Split('\n').Select(l => l.Trim().TrimStart('>', ' ')).SkipWhile(l => l.Length == 0 || l.StartsWith('#')).TakeWhile(l => l.Length > 0);
        var text = string.Join(' ', lines);
        if (text.Length == 0)
        {
            text = markdown.Trim().TrimStart('#').Trim();
        }

        // Emphasis and code marks go; everything else (including '<', '_' in names) stays as text, escaped when shown.
        text = new string(text.Where(c => c is not ('*' or '`') && !char.IsControl(c)).ToArray());
        return text.Length <= max ? text : text[..(max - 1)].TrimEnd() + "…";
    }

    public static string Plural(int count, string one, string many) =>
        count.ToString("N0", CultureInfo.InvariantCulture) + " " + (count == 1 ? one : many);

    /// <summary>A span of time in its two largest units: 45s, 12m 3s, 3h 4m, 2d 5h (under a second: 0.4s).</summary>
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalSeconds switch
        {
            < 1 => span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + "s",
            < 60 => $"{(int)span.TotalSeconds}s",
            < 3600 => span.Seconds == 0 ? $"{span.Minutes}m" : $"{span.Minutes}m {span.Seconds}s",
            < 86400 => span.Minutes == 0 ? $"{span.Hours}h" : $"{span.Hours}h {span.Minutes}m",
            _ => span.Hours == 0 ? $"{(int)span.TotalDays}d" : $"{(int)span.TotalDays}d {span.Hours}h",
        };
    }

    /// <summary>A number in few characters for a chart's axis: 950, 1,500, 20k, 1.2M, 3B; small and fractional numbers as <see cref="Number"/>.</summary>
    public static string Compact(double value)
    {
        var magnitude = Math.Abs(value);
        return magnitude switch
        {
            >= 1e9 => (value / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
            >= 1e6 => (value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
            >= 1e4 => (value / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "k",
            >= 1000 when value == Math.Round(value) => value.ToString("N0", CultureInfo.InvariantCulture),
            _ => Number(value),
        };
    }

    /// <summary>A whole number with thousands separators (steps, counts): 12,345.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
