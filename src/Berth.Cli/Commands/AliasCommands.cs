using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary><c>berth alias set|rm|ls|protect|unprotect</c>: named, movable pointers to versions.</summary>
internal static class AliasCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("alias", "Point, remove, list and protect aliases (champion, candidate, …).");
        command.Subcommands.Add(Set(app));
        command.Subcommands.Add(Remove(app));
        command.Subcommands.Add(List(app));
        command.Subcommands.Add(Protect(app));
        command.Subcommands.Add(Unprotect(app));
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
                var id = opened.Id.ToString(CultureInfo.InvariantCulture);
                context.Output.Line($"request #{id} opened: alias {name} is protected; moving it to {version.ModelName}:{result.Version.Number.ToString(CultureInfo.InvariantCulture)} needs {opened.RequiredApprovals.ToString(CultureInfo.InvariantCulture)} approval(s).");
                context.Output.Line($"Approvers review it with 'berth approve {id}' or 'berth reject {id}'.");
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
            var ns = CliContext.NamespaceOf(reference);
            var aliases = await context.Client.ListAliasesAsync(ns, reference.Model, cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(aliases, CliJson.Context.ListAliasInfo);
                return ExitCodes.Success;
            }

            var protection = (await context.Client.ListProtectedAliasesAsync(ns, reference.Model, cancellationToken)).ToDictionary(p => p.Name, StringComparer.Ordinal);
            if (aliases.Count == 0 && protection.Count == 0)
            {
                context.Output.Line($"{reference.ModelName} has no aliases.");
                return ExitCodes.Success;
            }

            // Protected aliases that point nowhere yet are listed too: moving them already needs approvals.
            var rows = aliases.Select(a => (a.Name, Version: a.Version.ToString(CultureInfo.InvariantCulture), Updated: TextFormat.ShortTime(a.UpdatedAt), By: a.UpdatedBy))
                .Concat(protection.Keys.Where(name => aliases.All(a => a.Name != name)).Select(name => (Name: name, Version: "-", Updated: "", By: "")))
                .OrderBy(r => r.Name, StringComparer.Ordinal);
            context.Output.Table(
                ["ALIAS", "VERSION", "UPDATED", "BY", "PROTECTED"],
                rows.Select(r => (IReadOnlyList<string>)
                [
                    r.Name,
                    r.Version,
                    r.Updated,
                    r.By,
                    protection.TryGetValue(r.Name, out var p) ? $"yes ({TextFormat.Count(p.RequiredApprovals, "approval")})" : "-",
                ]));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Protect(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var alias = new Argument<string>("alias") { Description = "The alias to protect, e.g. champion." };
        var approvals = new Option<int>("--approvals") { Description = "Approvals a move of the alias needs (default 1).", DefaultValueFactory = _ => 1 };
        approvals.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--approvals must be 1 or more.");
            }
        });
        var command = new Command("protect", "Make moving an alias need approvals: 'alias set' then opens a request.") { model, alias, approvals };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "alias protect");
            var name = CheckAlias(parse.GetValue(alias)!);
            var result = await context.Client.ProtectAliasAsync(CliContext.NamespaceOf(reference), reference.Model, name, parse.GetValue(approvals), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(result, CliJson.Context.ProtectedAliasInfo);
            }
            else
            {
                context.Output.Line($"{reference.ModelName}:{result.Name} is protected: moving it needs {TextFormat.Count(result.RequiredApprovals, "approval")}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Unprotect(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var alias = new Argument<string>("alias") { Description = "The alias, e.g. champion." };
        var command = new Command("unprotect", "Stop protecting an alias: it moves at once again.") { model, alias };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "alias unprotect");
            var name = CheckAlias(parse.GetValue(alias)!);
            await context.Client.UnprotectAliasAsync(CliContext.NamespaceOf(reference), reference.Model, name, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new AliasUnprotectedOutput(reference.ModelName, name, false), CliJson.Context.AliasUnprotectedOutput);
            }
            else
            {
                context.Output.Line($"{reference.ModelName}:{name} is no longer protected.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The syntax of an alias; whether it clashes with a stage of the namespace is the server's call.</summary>
    private static string CheckAlias(string alias) =>
        Names.CheckAlias(alias, stages: []) is { } problem ? throw new UsageException(problem) : alias;
}
