using Berth.Contracts.Dtos;

namespace Berth.Web.Rendering;

/// <summary>
/// Which param and metric columns the runs table shows when the viewer did not pick them: the metrics most of the page's
/// runs have (their last values), and the params whose values differ among them (constant ones say nothing about a run).
/// </summary>
public static class RunColumns
{
    public const int DefaultMetricCount = 4;
    public const int DefaultParamCount = 4;

    /// <summary>Up to <paramref name="max"/> metric keys, those most runs have first (ties by name); shown by name.</summary>
    public static IReadOnlyList<string> DefaultMetrics(IReadOnlyList<RunInfo> runs, int max = DefaultMetricCount) =>
        runs.SelectMany(r => r.Metrics.Keys)
            .GroupBy(k => k, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(max).Select(g => g.Key).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Up to <paramref name="max"/> param names whose values are not the same in every run of the page (a run without the
    /// param differs from one with it), those most runs have first; with a single run, its params. Shown by name.
    /// </summary>
    public static IReadOnlyList<string> DefaultParams(IReadOnlyList<RunInfo> runs, int max = DefaultParamCount)
    {
        var names = runs.SelectMany(r => r.Params.Keys).GroupBy(k => k, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key);
        var differing = runs.Count <= 1
            ? names
            : names.Where(name => runs.Select(r => r.Params.TryGetValue(name, out var value) ? value : null).Distinct(StringComparer.Ordinal).Skip(1).Any());
        return differing.Take(max).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The keys of query values such as <c>metric=auc&amp;metric=loss,f1</c> (comma-separated lists allowed), without
    /// blanks and repeats, in the given order, at most <paramref name="max"/>.
    /// </summary>
    public static IReadOnlyList<string> Parse(IEnumerable<string>? values, int max) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal).Take(max).ToList();
}
