using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth run compare &lt;run&gt; &lt;run&gt; …</c>: runs side by side, one column each: the params whose values differ
/// (a param a run lacks differs too), then every metric's final (last) value with the best one marked (<c>*</c>, and bold
/// on a terminal). Lower is better for names such as loss or error (<see cref="MetricDirection"/>), higher otherwise;
/// <c>--lower</c> and <c>--higher</c> say otherwise. A bare id takes the model of the run before it.
/// </summary>
internal static class RunCompareCommand
{
    /// <summary>As many runs as the API's curve comparison takes.</summary>
    public const int MaxRuns = 20;

    public static Command Create(CliApp app)
    {
        var runs = new Argument<string[]>("runs")
        {
            Description = "The runs: namespace/model/id, or a bare id for another run of the model named before it (2 to 20).",
            Arity = new ArgumentArity(2, MaxRuns),
        };
        var metric = new Option<string[]>("--metric") { Description = "Compare only these metrics (repeatable; default: every metric of any run).", HelpName = "key" };
        var lower = new Option<string[]>("--lower") { Description = "Lower values of this metric are better (repeatable).", HelpName = "key" };
        var higher = new Option<string[]>("--higher") { Description = "Higher values of this metric are better (repeatable).", HelpName = "key" };
        var all = new Option<bool>("--all-params") { Description = "List every param, not only those whose values differ." };
        var command = new Command("compare", "Compare runs: the params that differ and each metric's final value, the best marked.") { runs, metric, lower, higher, all };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var references = References(context, parse.GetValue(runs) ?? []);
            var loaded = new List<RunInfo>();
            foreach (var (ns, model, id) in references)
            {
                loaded.Add(await context.Client.GetRunAsync(ns, model, id, cancellationToken));
            }

            var lowerSet = (parse.GetValue(lower) ?? []).ToHashSet(StringComparer.Ordinal);
            var higherSet = (parse.GetValue(higher) ?? []).ToHashSet(StringComparer.Ordinal);
            if (lowerSet.Intersect(higherSet).FirstOrDefault() is { } both)
            {
                throw new UsageException($"'{both}' is given to both --lower and --higher.");
            }

            var comparison = Compare(loaded, parse.GetValue(metric) ?? [], name => lowerSet.Contains(name) || (!higherSet.Contains(name) && MetricDirection.LowerIsBetterByDefault(name)));
            if (context.Output.Json)
            {
                context.Output.WriteJson(comparison, CliJson.Context.RunCompareOutput);
                return ExitCodes.Success;
            }

            Write(context.Output, comparison, parse.GetValue(all));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The runs named, a bare id taking the model of the reference before it; the same run twice is a usage error.</summary>
    private static List<(string Namespace, string Model, string Id)> References(CliContext context, IReadOnlyList<string> texts)
    {
        var result = new List<(string, string, string)>();
        (string Namespace, string Model)? model = null;
        foreach (var text in texts)
        {
            if (!text.Contains('/', StringComparison.Ordinal))
            {
                if (model is not { } previous)
                {
                    throw new UsageException($"'{text}': name the first run as namespace/model/id (as 'berth run start' prints it); later ones may be bare ids of the same model.");
                }

                result.Add((previous.Namespace, previous.Model, text));
                continue;
            }

            var run = RunCommands.Parse(context, text);
            model = (run.Namespace, run.Model);
            result.Add(run);
        }

        var twice = result.GroupBy(r => r).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new UsageException($"Run {twice.Key.Item1}/{twice.Key.Item2}/{twice.Key.Item3} is given twice.");
        }

        return result;
    }

    /// <summary>The comparison: every param (with whether its values differ) and every chosen metric's last values, with the best.</summary>
    internal static RunCompareOutput Compare(IReadOnlyList<RunInfo> runs, IReadOnlyList<string> metrics, Func<string, bool> lowerIsBetter)
    {
        var parameters = runs.SelectMany(r => r.Params.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(name =>
            {
                var values = runs.Select(r => r.Params.TryGetValue(name, out var v) ? v : null).ToList();
                return new RunCompareParam(name, values, values.Distinct(StringComparer.Ordinal).Count() > 1);
            }).ToList();
        var names = metrics.Count > 0
            ? metrics.Distinct(StringComparer.Ordinal).ToList()
            : runs.SelectMany(r => r.Metrics.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var rows = names.Select(name =>
        {
            var values = runs.Select(r => r.Metrics.TryGetValue(name, out var s) ? s.Last : (double?)null).ToList();
            var lower = lowerIsBetter(name);
            var finite = values.Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value).ToList();
            IReadOnlyList<int> best = [];
            if (finite.Count > 0 && runs.Count > 1)
            {
                var target = lower ? finite.Min() : finite.Max();
                best = values.Select((v, i) => (v, i)).Where(p => p.v == target).Select(p => p.i).ToList();
            }

            return new RunCompareMetric(name, lower, values, best);
        }).ToList();
        return new RunCompareOutput(runs, parameters, rows);
    }

    private static void Write(Output output, RunCompareOutput comparison, bool allParams)
    {
        var runs = comparison.Runs;
        var models = runs.Select(r => $"{r.Namespace}/{r.Model}").Distinct(StringComparer.Ordinal).ToList();
        output.Title($"{runs.Count} runs of {TextFormat.List(models)}");
        var headers = new List<string> { "" };
        headers.AddRange(runs.Select(r => r.Name ?? r.Id));
        var rows = new List<IReadOnlyList<string>>
        {
            Row("id", runs.Select(r => models.Count == 1 ? r.Id : $"{r.Namespace}/{r.Model}/{r.Id}")),
            Row("status", runs.Select(r => r.Status)),
            Row("started", runs.Select(r => TextFormat.Time(r.StartedAt))),
            Row("took", runs.Select(r => r.EndedAt is { } ended ? Duration(ended - r.StartedAt) : "running")),
        };

        var shown = comparison.Params.Where(p => allParams || p.Differs).ToList();
        var same = comparison.Params.Where(p => !p.Differs).ToList();
        if (shown.Count > 0)
        {
            rows.Add(Row(allParams ? "PARAMS" : "PARAMS THAT DIFFER", runs.Select(_ => "")));
            rows.AddRange(shown.Select(p => Row("  " + p.Name, p.Values.Select(v => v ?? "-"))));
        }

        var emphasis = new HashSet<(int Row, int Column)>();
        if (comparison.Metrics.Count > 0)
        {
            rows.Add(Row("FINAL METRICS", runs.Select(_ => "")));
            foreach (var m in comparison.Metrics)
            {
                var index = rows.Count;
                foreach (var best in m.Best)
                {
                    emphasis.Add((index, best + 1));
                }

                rows.Add(Row($"  {m.Name} ({(m.LowerIsBetter ? "lower" : "higher")} is better)",
                    m.Values.Select((v, i) => v is { } x ? Number(x) + (m.Best.Contains(i) ? " *" : "") : "-")));
            }
        }

        output.Table(headers, rows, emphasis);
        if (!allParams && same.Count > 0)
        {
            output.Line($"Same in every run: {string.Join(", ", same.Select(p => $"{p.Name}={p.Values[0]}"))}.");
        }

        if (comparison.Metrics.Count > 0)
        {
            output.Line("* the best final value of each metric.");
        }
    }

    private static List<string> Row(string label, IEnumerable<string> cells) => [label, .. cells];

    private static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static string Duration(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes}m"
        : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds}s"
        : $"{Math.Max(0, span.TotalSeconds):0.#}s";
}
