using Berth.Contracts.Dtos;

namespace Berth.Web.Rendering;

/// <summary>How a file of one compared version relates to the same path in the first (the baseline).</summary>
public enum FileChange
{
    /// <summary>Same digest as in the baseline.</summary>
    Same,

    /// <summary>Not in the baseline.</summary>
    Added,

    /// <summary>In the baseline, not here.</summary>
    Removed,

    /// <summary>In both, with other bytes.</summary>
    Changed,

    /// <summary>Neither here nor in the baseline.</summary>
    Absent,
}

/// <summary>One metric across the compared versions: values (null where a version lacks it), differences to the first, the best.</summary>
public sealed record MetricRow(string Name, bool LowerIsBetter, IReadOnlyList<double?> Values, IReadOnlyList<double?> Differences, IReadOnlySet<int> Best);

/// <summary>One parameter across the compared versions; <see cref="Differs"/> when not every version has the same value.</summary>
public sealed record ParamRow(string Name, IReadOnlyList<string?> Values, bool Differs);

/// <summary>One path that is not identical in every compared version: each version's file (null: absent) and its change against the first.</summary>
public sealed record FileRow(string Path, IReadOnlyList<FileEntry?> Files, IReadOnlyList<FileChange> Changes);

/// <summary>
/// The side-by-side comparison of 2–10 versions (the compare page): metrics with the best value of each (per metric,
/// higher or lower is better), parameters with differences marked, and files added, removed or changed by digest against
/// the first version. Pure functions over <see cref="VersionInfo"/>, so edge cases are tested without a server.
/// </summary>
public static class Comparison
{
    /// <summary>The fewest and most versions the compare page takes.</summary>
    public const int MinVersions = 2;

    public const int MaxVersions = 10;

    /// <summary>
    /// Whether a smaller value of a metric is better when the viewer did not say: names made of words such as loss,
    /// error, rmse, latency or perplexity (<c>val_loss</c>, <c>p99-latency</c>, <c>eval.mae</c>); higher is better otherwise
    /// (<see cref="Berth.Contracts.Naming.MetricDirection"/>, which <c>berth run compare</c> uses too).
    /// </summary>
    public static bool LowerIsBetterByDefault(string metric) => Berth.Contracts.Naming.MetricDirection.LowerIsBetterByDefault(metric);

    /// <summary>Every metric any of <paramref name="versions"/> has, by name.</summary>
    public static IReadOnlyList<MetricRow> Metrics(IReadOnlyList<VersionInfo> versions, Func<string, bool> lowerIsBetter) =>
        Metrics(versions.Select(v => v.Metrics).ToList(), lowerIsBetter);

    /// <summary>Every metric any of <paramref name="columns"/> (each compared thing's metrics, e.g. runs' last values) has, by name.</summary>
    public static IReadOnlyList<MetricRow> Metrics(IReadOnlyList<IReadOnlyDictionary<string, double>> columns, Func<string, bool> lowerIsBetter)
    {
        var names = columns.SelectMany(c => c.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var rows = new List<MetricRow>();
        foreach (var name in names)
        {
            var values = columns.Select(c => c.TryGetValue(name, out var value) && double.IsFinite(value) ? value : (double?)null).ToList();
            var first = values[0];
            var differences = values.Select((value, i) => i > 0 && first is { } f && value is { } x ? x - f : (double?)null).ToList();
            var lower = lowerIsBetter(name);
            var present = values.Where(x => x is not null).Select(x => x!.Value).ToList();
            var best = new HashSet<int>();
            // A best value means something only when at least two versions have the metric and they differ.
            if (present.Count >= 2 && present.Distinct().Count() > 1)
            {
                var target = lower ? present.Min() : present.Max();
                for (var i = 0; i < values.Count; i++)
                {
                    if (values[i] == target)
                    {
                        best.Add(i);
                    }
                }
            }

            rows.Add(new MetricRow(name, lower, values, differences, best));
        }

        return rows;
    }

    /// <summary>Every parameter any of <paramref name="versions"/> has, by name; a missing value differs from any value.</summary>
    public static IReadOnlyList<ParamRow> Params(IReadOnlyList<VersionInfo> versions) => Params(versions.Select(v => v.Params).ToList());

    /// <summary>Every parameter any of <paramref name="columns"/> has, by name; a missing value differs from any value.</summary>
    public static IReadOnlyList<ParamRow> Params(IReadOnlyList<IReadOnlyDictionary<string, string>> columns)
    {
        var names = columns.SelectMany(c => c.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return names.Select(name =>
        {
            var values = columns.Select(c => c.TryGetValue(name, out var value) ? value : null).ToList();
            return new ParamRow(name, values, values.Distinct(StringComparer.Ordinal).Count() > 1);
        }).ToList();
    }

    /// <summary>
    /// The paths that are not identical in every version (by digest), in path order, and how many are. Versions whose files
    /// were not loaded (<see cref="VersionInfo.Files"/> null) count as having none.
    /// </summary>
    public static (IReadOnlyList<FileRow> Rows, int Identical) Files(IReadOnlyList<VersionInfo> versions)
    {
        var maps = versions.Select(v => (v.Files ?? []).ToDictionary(f => f.Path, StringComparer.Ordinal)).ToList();
        var paths = maps.SelectMany(m => m.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var rows = new List<FileRow>();
        var identical = 0;
        foreach (var path in paths)
        {
            var files = maps.Select(m => m.GetValueOrDefault(path)).ToList();
            if (files.All(f => f is not null) && files.Select(f => f!.Digest).Distinct(StringComparer.Ordinal).Count() == 1)
            {
                identical++;
                continue;
            }

            var baseline = files[0];
            var changes = files.Select((file, i) => i == 0
                ? (file is null ? FileChange.Absent : FileChange.Same)
                : (baseline, file) switch
                {
                    (null, null) => FileChange.Absent,
                    (null, not null) => FileChange.Added,
                    (not null, null) => FileChange.Removed,
                    var (b, f) => string.Equals(b.Digest, f.Digest, StringComparison.Ordinal) ? FileChange.Same : FileChange.Changed,
                }).ToList();
            rows.Add(new FileRow(path, files, changes));
        }

        return (rows, identical);
    }

    /// <summary>Short column names: <c>v3</c> when every version is of one model, <c>fraud v3</c> within one namespace, else <c>acme/fraud v3</c>.</summary>
    public static IReadOnlyList<string> Labels(IReadOnlyList<VersionInfo> versions)
    {
        var oneModel = versions.Select(v => (v.Namespace, v.Model)).Distinct().Count() == 1;
        var oneNamespace = versions.Select(v => v.Namespace).Distinct(StringComparer.Ordinal).Count() == 1;
        return versions.Select(v => oneModel ? $"v{v.Number}" : oneNamespace ? $"{v.Model} v{v.Number}" : $"{v.Namespace}/{v.Model} v{v.Number}").ToList();
    }

    /// <summary>A signed difference: +0.02, −0.013, ±0.</summary>
    public static string Difference(double difference) =>
        difference == 0 ? "±0" : (difference > 0 ? "+" : "−") + Format.Number(Math.Abs(difference));
}
