using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary><c>berth alias set|rm|ls</c>: named, movable pointers to versions.</summary>
internal static class AliasCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("alias", "Point, remove and list aliases (champion, candidate, …).");
        command.Subcommands.Add(Set(app));
        command.Subcommands.Add(Remove(app));
        command.Subcommands.Add(List(app));
        return command;
    }

    private static Command Set(CliApp app)
    {
        var reference = new Argument<string>("reference") { Description = "The version to point at, e.g. acme/fraud:3 (no selector = latest)." };
        var alias = new Argument<string>("alias") { Description = "The alias, e.g. champion." };
        var command = new Command("set", "Point an alias at a version (creates or moves it).") { reference, alias };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var version = context.Reference(parse.GetValue(reference)!);
            var name = CheckAlias(parse.GetValue(alias)!);
            var result = await context.Client.SetAliasAsync(CliContext.NamespaceOf(version), version.Model, name, version.Selector.Text, cancellationToken: cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(result, CliJson.Context.TransitionResult);
            }
            else if (result.Request is { } opened)
            {
                context.Output.Line($"request #{opened.Id.ToString(CultureInfo.InvariantCulture)} opened: alias {name} is protected; moving it to {version.ModelName}:{result.Version.Number.ToString(CultureInfo.InvariantCulture)} needs {opened.RequiredApprovals.ToString(CultureInfo.InvariantCulture)} approval(s).");
            }
            else
            {
                context.Output.Line($"{version.ModelName}:{name} -> {version.ModelName}:{result.Version.Number.ToString(CultureInfo.InvariantCulture)}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var alias = new Argument<string>("alias") { Description = "The alias to remove." };
        var command = new Command("rm", "Remove an alias (the version stays).") { model, alias };
        command.Aliases.Add("remove");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "alias rm");
            var name = CheckAlias(parse.GetValue(alias)!);
            await context.Client.RemoveAliasAsync(CliContext.NamespaceOf(reference), reference.Model, name, cancellationToken: cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new AliasRemovedOutput(reference.ModelName, name, true), CliJson.Context.AliasRemovedOutput);
            }
            else
            {
                context.Output.Line($"Removed alias {reference.ModelName}:{name}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var command = new Command("ls", "List the aliases of a model.") { model };
        command.Aliases.Add("list");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "alias ls");
            var aliases = await context.Client.ListAliasesAsync(CliContext.NamespaceOf(reference), reference.Model, cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(aliases, CliJson.Context.ListAliasInfo);
            }
            else if (aliases.Count == 0)
            {
                context.Output.Line($"{reference.ModelName} has no aliases.");
            }
            else
            {
                context.Output.Table(
                    ["ALIAS", "VERSION", "UPDATED", "BY"],
                    aliases.Select(a => (IReadOnlyList<string>)[a.Name, a.Version.ToString(CultureInfo.InvariantCulture), TextFormat.ShortTime(a.UpdatedAt), a.UpdatedBy]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The syntax of an alias; whether it clashes with a stage of the namespace is the server's call.</summary>
    private static string CheckAlias(string alias) =>
        Names.CheckAlias(alias, stages: []) is { } problem ? throw new UsageException(problem) : alias;
}
