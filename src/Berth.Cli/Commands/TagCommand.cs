using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary><c>berth tag acme/fraud:3 validated=true [k=v …] [--rm key]</c>: a version's mutable tags.</summary>
internal static class TagCommand
{
    public static Command Create(CliApp app)
    {
        var reference = new Argument<string>("reference") { Description = "The version, e.g. acme/fraud:3 (no selector = latest)." };
        var pairs = new Argument<string[]>("key=value") { Description = "Tags to set.", Arity = ArgumentArity.ZeroOrMore };
        var remove = new Option<string[]>("--rm") { Description = "Tag keys to remove (repeatable).", AllowMultipleArgumentsPerToken = false };
        var command = new Command("tag", "Set or remove tags of a version.") { reference, pairs, remove };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var version = context.Reference(parse.GetValue(reference)!);
            var set = InputParser.Pairs(parse.GetValue(pairs), "tag", "tag");
            var removed = (parse.GetValue(remove) ?? []).Distinct(StringComparer.Ordinal).ToList();
            foreach (var key in removed)
            {
                if (Names.CheckKey("tag", key) is { } problem)
                {
                    throw new UsageException($"--rm: {problem}");
                }

                if (set.ContainsKey(key))
                {
                    throw new UsageException($"Tag '{key}' is both set and removed.");
                }
            }

            if (set.Count == 0 && removed.Count == 0)
            {
                throw new UsageException("Nothing to do: give tags as key=value and/or --rm <key>.");
            }

            var updated = await context.Client.UpdateVersionAsync(
                version,
                new UpdateVersionRequest(SetTags: set.Count > 0 ? set : null, RemoveTags: removed.Count > 0 ? removed : null),
                cancellationToken: cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(updated, CliJson.Context.VersionInfo);
            }
            else
            {
                context.Output.Line($"Tags of {updated.Reference}: {(updated.Tags.Count > 0 ? TextFormat.Pairs(updated.Tags) : "(none)")}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
