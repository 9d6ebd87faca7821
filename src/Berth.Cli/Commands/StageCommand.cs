using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary><c>berth stage acme/fraud:3 production --comment "beats 2"</c>.</summary>
internal static class StageCommand
{
    public static Command Create(CliApp app)
    {
        var reference = new Argument<string>("reference") { Description = "The version, e.g. acme/fraud:3 (no selector = latest)." };
        var stage = new Argument<string>("stage") { Description = "The stage to move it to (by default development, staging, production or archived)." };
        var comment = new Option<string>("--comment", "-m") { Description = "Why: recorded in the model's history." };
        var command = new Command("stage", "Move a version to a lifecycle stage.") { reference, stage, comment };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var version = context.Reference(parse.GetValue(reference)!);
            var target = parse.GetValue(stage)!;
            if (Names.CheckStage(target) is { } problem)
            {
                throw new UsageException(problem);
            }

            var result = await context.Client.ChangeStageAsync(version, target, parse.GetValue(comment), cancellationToken: cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(result, CliJson.Context.TransitionResult);
            }
            else if (result.Request is { } opened)
            {
                var gate = opened.Gate is { } g ? $" ({g.Summary})" : "";
                var id = opened.Id.ToString(CultureInfo.InvariantCulture);
                context.Output.Line($"request #{id} opened: {result.Version.Reference} -> {opened.Stage} needs {opened.RequiredApprovals.ToString(CultureInfo.InvariantCulture)} approval(s){gate}");
                context.Output.Line($"Approvers review it with 'berth approve {id}' or 'berth reject {id}'.");
            }
            else if (result.Outcome == TransitionOutcomes.Unchanged)
            {
                context.Output.Line($"{result.Version.Reference} already is in stage {result.Version.Stage}.");
            }
            else
            {
                context.Output.Line($"{result.Version.Reference} is now in stage {result.Version.Stage}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
