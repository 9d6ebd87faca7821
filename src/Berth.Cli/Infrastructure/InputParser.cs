using System.Globalization;
using System.Text.RegularExpressions;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// Parses what users type besides references: <c>key=value</c> pairs, metrics (invariant-culture
/// numbers), datasets (<c>uri[@algorithm:digest]</c>), times (ISO 8601), namespace roles, event types, and
/// the secret files they point at. Every failure is a <see cref="UsageException"/> that quotes the input and
/// says what was expected.
/// </summary>
internal static partial class InputParser
{
    /// <summary>The roles a namespace grants, weakest first.</summary>
    public static readonly IReadOnlyList<string> RoleNames = [Roles.Reader, Roles.Writer, Roles.Approver, Roles.Admin];

    [GeneratedRegex("^[A-Za-z0-9_+.-]{1,32}:[A-Za-z0-9+/=._-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex DatasetDigest();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTime();

    /// <summary>Fraction digits beyond the 7 that .NET keeps (100 ns ticks), as <c>date +%N</c> prints 9.</summary>
    [GeneratedRegex(@"(?<=:\d{2}\.\d{7})\d{1,2}", RegexOptions.CultureInvariant)]
    private static partial Regex ExtraFractionDigits();

    /// <summary><c>key=value</c> pairs (the value may contain '=' and may be empty); a key may appear once.</summary>
    public static Dictionary<string, string> Pairs(IEnumerable<string>? values, string kind, string option)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var text in values ?? [])
        {
            var (key, value) = Split(text, kind, option);
            if (Names.CheckKey(kind, key) is { } problem)
            {
                throw new UsageException($"{option} {text}: {problem}");
            }

            var valueProblem = kind == "tag" ? Names.CheckTagValue(key, value) : Names.CheckParamValue(key, value);
            if (valueProblem is not null)
            {
                throw new UsageException($"{option} {text}: {valueProblem}");
            }

            if (!result.TryAdd(key, value))
            {
                throw new UsageException($"{option}: {kind} '{key}' is given twice.");
            }
        }

        return result;
    }

    /// <summary><c>name=number</c>, the number in invariant culture (<c>0.931</c>, <c>1e-3</c>; not <c>0,931</c>).</summary>
    public static Dictionary<string, double> Metrics(IEnumerable<string>? values, string option = "--metric")
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var text in values ?? [])
        {
            var (key, value) = Split(text, "metric", option);
            if (Names.CheckKey("metric", key) is { } problem)
            {
                throw new UsageException($"{option} {text}: {problem}");
            }

            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
            {
                throw new UsageException($"{option} {text}: '{value}' is not a number; write metrics as name=number with a '.' decimal point (e.g. auc=0.931 or loss=1e-3).");
            }

            if (!result.TryAdd(key, number))
            {
                throw new UsageException($"{option}: metric '{key}' is given twice.");
            }
        }

        return result;
    }

    /// <summary><c>uri</c> or <c>uri@algorithm:digest</c> (e.g. <c>s3://data/train.parquet@sha256:…</c>).</summary>
    public static DatasetRef Dataset(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new UsageException("--dataset needs a URI, optionally followed by @algorithm:digest.");
        }

        var at = text.LastIndexOf('@');
        if (at > 0 && DatasetDigest().IsMatch(text[(at + 1)..]))
        {
            return new DatasetRef(text[..at], text[(at + 1)..]);
        }

        if (at > 0 && text[(at + 1)..].StartsWith("sha256:", StringComparison.Ordinal))
        {
            throw new UsageException($"--dataset {text}: '{text[(at + 1)..]}' is not a digest; use uri@algorithm:value (e.g. @sha256:<hex>).");
        }

        return new DatasetRef(text);
    }

    /// <summary>
    /// An ISO 8601 date (<c>2026-01-01</c>: midnight UTC) or date-time (<c>2026-03-01T12:00Z</c>,
    /// <c>2026-03-01T12:00:00.123456+02:00</c>, up to 9 fraction digits as <c>date +%N</c> prints them, kept to
    /// 100 ns; UTC when it has no offset).
    /// </summary>
    public static DateTimeOffset Time(string text, string option)
    {
        if (IsoTime().IsMatch(text) && DateTimeOffset.TryParse(ExtraFractionDigits().Replace(text, ""), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        throw new UsageException($"{option} '{text}': expected an ISO 8601 date or date-time, e.g. 2026-01-01 or 2026-03-01T12:00Z (UTC unless it has an offset).");
    }

    /// <summary>An age such as 90d, 12h, 30m or 2w (a number and a unit: w, d, h, m).</summary>
    public static TimeSpan Age(string text, string option)
    {
        if (text.Length >= 2 && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            switch (text[^1])
            {
                case 'w': return TimeSpan.FromDays(7.0 * count);
                case 'd': return TimeSpan.FromDays(count);
                case 'h': return TimeSpan.FromHours(count);
                case 'm': return TimeSpan.FromMinutes(count);
            }
        }

        throw new UsageException($"{option} takes an age such as 90d, 12h, 30m or 2w; got '{text}'.");
    }

    /// <summary>
    /// A byte count: a whole number with an optional unit, binary (KiB, MiB, GiB, TiB, PiB) or decimal (KB, MB, GB, TB, PB),
    /// e.g. 100GiB, 500MB, 1048576.
    /// </summary>
    public static long Bytes(string text, string option)
    {
        var match = ByteCount().Match(text.Trim());
        if (match.Success && long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            var unit = match.Groups[2].Value.ToUpperInvariant();
            var factor = unit switch
            {
                "" or "B" => 1L,
                "KB" => 1000L,
                "MB" => 1000L * 1000,
                "GB" => 1000L * 1000 * 1000,
                "TB" => 1000L * 1000 * 1000 * 1000,
                "PB" => 1000L * 1000 * 1000 * 1000 * 1000,
                "KIB" => 1L << 10,
                "MIB" => 1L << 20,
                "GIB" => 1L << 30,
                "TIB" => 1L << 40,
                _ => 1L << 50,
            };
            if (count <= long.MaxValue / factor)
            {
                return count * factor;
            }
        }

        throw new UsageException($"{option} takes a size such as 100GiB, 500MB or 1048576 (bytes); got '{text}'.");
    }

    [GeneratedRegex("^([0-9]{1,19}) ?((?:[KMGTP]i?)?B)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ByteCount();

    public static DateTimeOffset? OptionalTime(string? text, string option) => text is null ? null : Time(text, option);

    /// <summary>A namespace role: reader, writer, approver or admin.</summary>
    public static string Role(string text) =>
        RoleNames.Contains(text, StringComparer.Ordinal)
            ? text
            : throw new UsageException($"'{text}' is not a role; use {string.Join(", ", RoleNames.SkipLast(1))} or {RoleNames[^1]}.");

    /// <summary>
    /// Event types, comma-separated and/or with the option repeated (<c>--events stage.changed,alias.moved</c>);
    /// <c>*</c> means all. Checked here for a quick answer; the server has the final word.
    /// </summary>
    public static List<string> EventTypeNames(IEnumerable<string> values, string option)
    {
        var result = new List<string>();
        foreach (var type in values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (type != "*" && !EventTypes.All.Contains(type, StringComparer.Ordinal))
            {
                throw new UsageException($"{option}: '{type}' is not an event type; use * (all) or some of: {string.Join(", ", EventTypes.All)}.");
            }

            if (!result.Contains(type, StringComparer.Ordinal))
            {
                result.Add(type);
            }
        }

        return result.Count > 0 ? result : throw new UsageException($"{option} needs at least one event type, e.g. {option} stage.changed,alias.moved.");
    }

    /// <summary>A secret kept in a file (not on the command line, where shell history and process lists keep it): its text without one trailing newline.</summary>
    public static string SecretFile(string path, string option)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"{option} '{path}': there is no such file; write the secret to a file and pass its path (or leave {option} out to have the server generate one).");
        }

        var secret = File.ReadAllText(path);
        secret = secret.EndsWith("\r\n", StringComparison.Ordinal) ? secret[..^2] : secret.EndsWith('\n') ? secret[..^1] : secret;
        return secret.Length > 0 ? secret : throw new UsageException($"{option} '{path}': the file is empty; it should hold the secret.");
    }

    private static (string Key, string Value) Split(string text, string kind, string option)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new UsageException($"{option} '{text}': expected {kind} as key=value (e.g. {Example(kind)}).");
        }

        return (text[..equals], text[(equals + 1)..]);
    }

    private static string Example(string kind) => kind switch
    {
        "metric" => "auc=0.931",
        "param" => "lr=0.01",
        _ => "team=risk",
    };
}
