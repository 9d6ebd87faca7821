using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth run start|log|finish|show</c> and <c>berth runs</c>: training runs (docs/runs.md). A run is named by its
/// reference <c>namespace/model/id</c>, which <c>berth run start</c> prints.
/// </summary>
internal static class RunCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var run = new Command("run", "Training runs: start one, log metrics into it, finish it, show it.");
        run.Subcommands.Add(Start(app));
        run.Subcommands.Add(Log(app));
        run.Subcommands.Add(Finish(app));
        run.Subcommands.Add(Show(app));
        return [run, List(app)];
    }

    private static Command Start(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud (created on first use)." };
        var name = new Option<string>("--name") { Description = "A name for the run." };
        var param = new Option<string[]>("--param") { Description = "A param as key=value (repeatable)." };
        var tag = new Option<string[]>("--tag") { Description = "A tag as key=value (repeatable)." };
        var note = new Option<string>("--note") { Description = "A free-text note." };
        var command = new Command("start", "Start a run of a model; prints its reference namespace/model/id.") { model, name, param, tag, note };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "run start");
            var request = new CreateRunRequest(
                parse.GetValue(name),
                InputParser.Pairs(parse.GetValue(param), "param", "--param") is { Count: > 0 } p ? p : null,
                InputParser.Pairs(parse.GetValue(tag), "tag", "--tag") is { Count: > 0 } t ? t : null,
                parse.GetValue(note));
            var created = await context.Client.CreateRunAsync(CliContext.NamespaceOf(reference), reference.Model, request, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(created, CliJson.Context.RunInfo);
            }
            else
            {
                context.Output.Line(Reference(created));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Log(CliApp app)
    {
        var run = RunArgument();
        var pairs = new Argument<string[]>("key=value") { Description = "Metrics to log, e.g. loss=0.3 (NaN, Infinity and -Infinity are values too).", Arity = ArgumentArity.OneOrMore };
        var step = new Option<long?>("--step") { Description = "The step of the points (default: one past the metric's last step, or 0)." };
        var command = new Command("log", "Log metric values into a running run.") { run, pairs, step };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model, id) = Parse(context, parse.GetValue(run)!);
            var values = new List<(string Key, double Value)>();
            foreach (var text in parse.GetValue(pairs) ?? [])
            {
                var equals = text.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0 || !double.TryParse(text.AsSpan(equals + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    throw new UsageException($"'{text}': write key=number, e.g. loss=0.3.");
                }

                var key = text[..equals];
                if (Names.CheckKey("metric", key) is { } problem)
                {
                    throw new UsageException(problem);
                }

                values.Add((key, value));
            }

            long? explicitStep = parse.GetValue(step);
            var summaries = explicitStep is null ? (await context.Client.GetRunAsync(ns, model, id, cancellationToken)).Metrics : null;
            var points = values.Select(v => new MetricPointInput(v.Key,
                explicitStep ?? (summaries!.TryGetValue(v.Key, out var s) ? s.LastStep + 1 : 0), v.Value)).ToList();
            var result = await context.Client.LogMetricsAsync(ns, model, id, new MetricBatch(points, Guid.NewGuid().ToString("N")), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(result, CliJson.Context.MetricBatchResult);
            }
            else
            {
                context.Output.Line(string.Join(", ", points.Select(p => $"{p.Key}={p.Value.ToString("R", CultureInfo.InvariantCulture)} at step {p.Step.ToString(CultureInfo.InvariantCulture)}")));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Finish(CliApp app)
    {
        var run = RunArgument();
        var status = new Option<string>("--status") { Description = "How the run ended: finished (default), failed or killed." };
        status.AcceptOnlyFromAmong(RunStatuses.Finished, RunStatuses.Failed, RunStatuses.Killed);
        var command = new Command("finish", "End a running run.") { run, status };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model, id) = Parse(context, parse.GetValue(run)!);
            var ended = await context.Client.FinishRunAsync(ns, model, id, parse.GetValue(status), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(ended, CliJson.Context.RunInfo);
            }
            else
            {
                context.Output.Line($"{Reference(ended)}: {ended.Status}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(CliApp app)
    {
        var run = RunArgument();
        var command = new Command("show", "Show a run: status, times, params, tags, lineage and each metric's last, min and max.") { run };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model, id) = Parse(context, parse.GetValue(run)!);
            var found = await context.Client.GetRunAsync(ns, model, id, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(found, CliJson.Context.RunInfo);
                return ExitCodes.Success;
            }

            context.Output.Title($"{Reference(found)}{(found.Name is null ? "" : $" ({found.Name})")}: {found.Status}");
            context.Output.Fields(
            [
                ("started", TextFormat.Time(found.StartedAt)),
                ("ended", found.EndedAt is { } ended ? TextFormat.Time(ended) : null),
                ("by", found.CreatedBy),
                ("params", found.Params.Count > 0 ? TextFormat.Pairs(found.Params) : null),
                ("tags", found.Tags.Count > 0 ? TextFormat.Pairs(found.Tags) : null),
                ("git", found.Lineage.GitCommit is { } commit ? commit + (found.Lineage.GitDirty == true ? " (dirty)" : "") : null),
                ("note", found.Note),
            ], indent: 2);
            if (found.Metrics.Count > 0)
            {
                context.Output.Table(
                    ["METRIC", "LAST", "STEP", "MIN", "MAX", "POINTS"],
                    found.Metrics.Select(m => (IReadOnlyList<string>)
                    [
                        m.Key, Number(m.Value.Last), m.Value.LastStep.ToString(CultureInfo.InvariantCulture),
                        m.Value.Min is { } min ? Number(min) : "-", m.Value.Max is { } max ? Number(max) : "-",
                        m.Value.Count.ToString(CultureInfo.InvariantCulture),
                    ]),
                    indent: 2);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var filter = new Option<string>("--filter") { Description = "A filter, e.g. \"params.lr < 0.05 and metrics.val_auc > 0.9 and status = 'finished'\" (docs/filters.md#runs)." };
        var sort = new Option<string>("--sort") { Description = "created or metrics.<key>, '-' first for descending (default -created)." };
        var command = new Command("runs", "List a model's runs, newest first (or as --sort says), with their final metrics.") { model, filter, sort };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "runs");
            var runs = await context.Client.ListRunsAsync(CliContext.NamespaceOf(reference), reference.Model, parse.GetValue(filter), parse.GetValue(sort), cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(runs, CliJson.Context.ListRunInfo);
            }
            else if (runs.Count == 0)
            {
                context.Output.Line("No runs.");
            }
            else
            {
                var keys = runs.SelectMany(r => r.Metrics.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(6).ToList();
                context.Output.Table(
                    ["ID", "NAME", "STATUS", "STARTED", .. keys.Select(k => k.ToUpperInvariant())],
                    runs.Select(r => (IReadOnlyList<string>)
                    [
                        r.Id, r.Name ?? "-", r.Status, TextFormat.Time(r.StartedAt),
                        .. keys.Select(k => r.Metrics.TryGetValue(k, out var m) ? Number(m.Last) : "-"),
                    ]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> RunArgument() =>
        new("run") { Description = "The run: namespace/model/id, as 'berth run start' prints it." };

    private static (string Namespace, string Model, string Id) Parse(CliContext context, string text)
    {
        var slash = text.LastIndexOf('/');
        if (slash <= 0 || slash == text.Length - 1)
        {
            throw new UsageException($"'{text}': name a run as namespace/model/id (as 'berth run start' prints it).");
        }

        var reference = context.ModelOnly(text[..slash], "run");
        return (CliContext.NamespaceOf(reference), reference.Model, text[(slash + 1)..]);
    }

    private static string Reference(RunInfo run) => $"{run.Namespace}/{run.Model}/{run.Id}";

    private static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
