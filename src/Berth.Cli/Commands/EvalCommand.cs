using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth eval acme/fraud:3 auc=0.93 --dataset holdout-2026-11 [--run &lt;id&gt;] [--note …]</c>: records metrics measured
/// on a ready version after its push (docs/runs.md, "Evaluations"); they become the version's effective metrics for search,
/// sorting and stage gates, and the pushed values stay beside them. Without metrics it lists the version's evaluations.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(CliApp app)
    {
        var reference = new Argument<string>("version") { Description = "The version: namespace/model:selector (a number, semantic version, alias or stage)." };
        var metrics = new Argument<string[]>("name=value") { Description = "Metrics measured, e.g. auc=0.93 f1=0.88. Without any: list the version's evaluations.", Arity = ArgumentArity.ZeroOrMore };
        var dataset = new Option<string>("--dataset") { Description = "What it was evaluated on: a name (holdout-2026-11) or a URI.", HelpName = "name" };
        var run = new Option<string>("--run") { Description = "The run that evaluated it: an id, or namespace/model/id of a run of the same model.", HelpName = "run" };
        var note = new Option<string>("--note") { Description = "A note (how, why)." };
        var command = new Command("eval", "Record metrics measured on a version after its push (an evaluation), or list its evaluations.") { reference, metrics, dataset, run, note };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var target = context.Reference(parse.GetValue(reference)!);
            var ns = CliContext.NamespaceOf(target);
            var values = InputParser.Metrics(parse.GetValue(metrics), "metric");
            if (values.Count == 0)
            {
                if (parse.GetValue(dataset) is not null || parse.GetValue(run) is not null || parse.GetValue(note) is not null)
                {
                    throw new UsageException("Give the metrics measured (e.g. auc=0.93) to record an evaluation; without them 'berth eval' lists the version's evaluations.");
                }

                return await ListAsync(context, target, cancellationToken);
            }

            var runId = parse.GetValue(run) is { } text ? RunId(context, text, ns, target.Model) : null;
            var before = await context.Client.GetVersionAsync(target, cancellationToken: cancellationToken);
            var evaluation = await context.Client.EvaluateVersionAsync(target,
                new CreateEvaluationRequest(values, parse.GetValue(dataset), runId, parse.GetValue(note)), Guid.NewGuid().ToString("N"), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(evaluation, CliJson.Context.EvaluationInfo);
                return ExitCodes.Success;
            }

            context.Output.Title($"Evaluated {evaluation.Namespace}/{evaluation.Model}:{evaluation.Version}{(evaluation.Dataset is { } d ? $" on {d}" : "")} (evaluation {evaluation.Id})");
            context.Output.Fields(evaluation.Metrics.Select(m => (m.Key, (string?)(TextFormat.Number(m.Value) + "  " + Was(before, m.Key)))), indent: 2);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>What the metric was before: the pushed value, an earlier evaluation's, or none.</summary>
    private static string Was(VersionInfo before, string key)
    {
        if (!before.Metrics.TryGetValue(key, out var value))
        {
            return "(new)";
        }

        return before.EvaluatedMetrics?.GetValueOrDefault(key) is { } e
            ? $"(was {TextFormat.Number(value)} from evaluation {e.Evaluation}{(e.Pushed is { } p ? $"; pushed {TextFormat.Number(p)}" : "")})"
            : $"(was {TextFormat.Number(value)}, pushed; kept as the pushed value)";
    }

    private static async Task<int> ListAsync(CliContext context, Berth.Contracts.Naming.ModelReference target, CancellationToken cancellationToken)
    {
        var evaluations = await context.Client.ListEvaluationsAsync(target, cancellationToken).ToListAsync(cancellationToken);
        if (context.Output.Json)
        {
            context.Output.WriteJson(evaluations, CliJson.Context.ListEvaluationInfo);
        }
        else if (evaluations.Count == 0)
        {
            context.Output.Line("No evaluations.");
        }
        else
        {
            context.Output.Table(["ID", "WHEN", "BY", "DATASET", "RUN", "METRICS"],
                evaluations.Select(e => (IReadOnlyList<string>)[e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), TextFormat.Time(e.CreatedAt), e.CreatedBy, e.Dataset ?? "-", e.Run ?? "-", TextFormat.Metrics(e.Metrics)]));
        }

        return ExitCodes.Success;
    }

    /// <summary>A run id, or namespace/model/id of a run of the version's own model (anything else is a usage error).</summary>
    private static string RunId(CliContext context, string text, string ns, string model)
    {
        if (!text.Contains('/', StringComparison.Ordinal))
        {
            return text;
        }

        var (runNs, runModel, id) = RunCommands.Parse(context, text);
        if (runNs != ns || runModel != model)
        {
            throw new UsageException($"--run {text}: an evaluation names a run of the version's own model ({ns}/{model}); this one is of {runNs}/{runModel}.");
        }

        return id;
    }
}
