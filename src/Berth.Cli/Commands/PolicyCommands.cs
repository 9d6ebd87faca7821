using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Berth.Cli.Infrastructure;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth policy show|set|rm|reset</c>: the ordered stages of a namespace (or of one model, overriding
/// its namespace's) with their rules: exclusive, required approvals, gate.
/// </summary>
internal static class PolicyCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("policy", "Show and change stage policies: the stages, and which are exclusive, need approvals or have a gate.");
        command.Subcommands.Add(Show(app));
        command.Subcommands.Add(Set(app));
        command.Subcommands.Add(Remove(app));
        command.Subcommands.Add(Reset(app));
        return command;
    }

    private static Command Show(CliApp app)
    {
        var scope = ScopeArgument();
        var command = new Command("show", "Show the policy of a namespace, or the one in force for a model.") { scope };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model) = Scope(context, parse.GetValue(scope)!, "policy show");
            Write(context, await context.Client.GetPolicyAsync(ns, model, cancellationToken), null);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Set(CliApp app)
    {
        var scope = ScopeArgument();
        var stage = StageArgument();
        var exclusive = new Option<bool>("--exclusive") { Description = "Only one version may be in the stage; the previous one moves to archived." };
        var notExclusive = new Option<bool>("--no-exclusive") { Description = "Any number of versions may be in the stage." };
        var approvals = new Option<int?>("--approvals") { Description = "Approvals a move into the stage needs (0: none; moves then apply at once)." };
        approvals.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0)
            {
                result.AddError("--approvals must be 0 or more.");
            }
        });
        var gate = new Option<string>("--gate") { Description = "A condition versions must meet to enter, e.g. 'metrics.auc >= 0.92 and tags.validated = \"true\"' ('' removes it)." };
        var noGate = new Option<bool>("--no-gate") { Description = "Remove the stage's gate." };
        var position = new Option<int?>("--position") { Description = "Where the stage goes in the order: 0 is first (the POSITION column of 'berth policy show')." };
        position.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0)
            {
                result.AddError("--position must be 0 or more.");
            }
        });
        var command = new Command("set", "Create or change a stage of a policy; options left out keep their value. A model's first change copies its namespace's policy.")
        {
            scope, stage, exclusive, notExclusive, approvals, gate, noGate, position,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model) = Scope(context, parse.GetValue(scope)!, "policy set");
            var name = CheckStage(parse.GetValue(stage)!);
            if (parse.GetValue(exclusive) && parse.GetValue(notExclusive))
            {
                throw new UsageException("Give --exclusive or --no-exclusive, not both.");
            }

            if (parse.GetValue(gate) is not null && parse.GetValue(noGate))
            {
                throw new UsageException("Give --gate or --no-gate, not both.");
            }

            var request = new SetStageRuleRequest(
                parse.GetValue(exclusive) ? true : parse.GetValue(notExclusive) ? false : null,
                parse.GetValue(approvals),
                parse.GetValue(noGate) ? "" : parse.GetValue(gate),
                parse.GetValue(position));
            PolicyInfo policy;
            try
            {
                policy = await context.Client.SetStageRuleAsync(ns, model, name, request, cancellationToken);
            }
            catch (BerthProblemException e) when (e.Code == ErrorCodes.InvalidFilter.Code && request.Gate is { } expression)
            {
                throw new CliException(GateError(e, expression));
            }

            Write(context, policy, $"Set stage {name} of {Describe(ns, model)}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var scope = ScopeArgument();
        var stage = StageArgument();
        var command = new Command("rm", "Remove a stage from a policy (refused while versions are in it).") { scope, stage };
        command.Aliases.Add("remove");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model) = Scope(context, parse.GetValue(scope)!, "policy rm");
            var name = CheckStage(parse.GetValue(stage)!);
            Write(context, await context.Client.RemoveStageRuleAsync(ns, model, name, cancellationToken), $"Removed stage {name} from {Describe(ns, model)}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Reset(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var command = new Command("reset", "Drop a model's own policy: it follows its namespace's again.") { model };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "policy reset");
            var ns = CliContext.NamespaceOf(reference);
            Write(context, await context.Client.ResetModelPolicyAsync(ns, reference.Model, cancellationToken), $"{reference.ModelName} follows the policy of {ns} again.");
            return ExitCodes.Success;
        });
        return command;
    }

    internal static Argument<string> ScopeArgument() => new("scope") { Description = "A namespace (acme) or a model (acme/fraud)." };

    private static Argument<string> StageArgument() => new("stage") { Description = "The stage, e.g. production." };

    /// <summary>A namespace (<c>acme</c>) or a model (<c>acme/fraud</c>).</summary>
    internal static (string Namespace, string? Model) Scope(CliContext context, string text, string command)
    {
        if (text.AsSpan().IndexOfAny('/', ':', '@') < 0)
        {
            return (CliContext.Namespace(text), null);
        }

        var reference = context.ModelOnly(text, command);
        return (CliContext.NamespaceOf(reference), reference.Model);
    }

    private static string CheckStage(string stage) =>
        Names.CheckStage(stage) is { } problem ? throw new UsageException(problem) : stage;

    /// <summary>The server's message with the expression and a caret under the place it points at.</summary>
    private static string GateError(BerthProblemException e, string expression)
    {
        var message = $"--gate: {e.Message.TrimEnd()} ({e.Code})";
        if (e.Extensions.TryGetValue("position", out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var at) && at >= 0 && at <= expression.Length)
        {
            message += $"\n  {expression}\n  {new string(' ', at)}^";
        }

        return message;
    }

    private static string Describe(string ns, string? model) => model is null ? ns : $"{ns}/{model}";

    private static void Write(CliContext context, PolicyInfo policy, string? outcome)
    {
        if (context.Output.Json)
        {
            context.Output.WriteJson(policy, CliJson.Context.PolicyInfo);
            return;
        }

        if (outcome is not null)
        {
            context.Output.Line(outcome);
        }

        var scope = Describe(policy.Namespace, policy.Model);
        context.Output.Title(policy.Model is null ? $"Policy of {scope}" : policy.Inherited ? $"Policy of {scope} (inherited from {policy.Namespace})" : $"Policy of {scope} (its own)");
        context.Output.Table(
            ["POSITION", "STAGE", "EXCLUSIVE", "APPROVALS", "GATE", "UPDATED"],
            policy.Stages.Select(r => (IReadOnlyList<string>)
            [
                r.Position.ToString(CultureInfo.InvariantCulture),
                r.Stage,
                TextFormat.YesNo(r.Exclusive),
                r.RequiredApprovals.ToString(CultureInfo.InvariantCulture),
                r.Gate ?? "-",
                r.UpdatedAt.Year <= 1 ? "(default)" : TextFormat.ShortTime(r.UpdatedAt),
            ]));
    }
}
