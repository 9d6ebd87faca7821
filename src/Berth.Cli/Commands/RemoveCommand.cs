using System.CommandLine;
using Berth.Cli.Infrastructure;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth rm acme/fraud:2</c>: soft-deletes one version. The selector is required: deleting "whatever
/// is latest right now" by leaving it out is too easy a mistake.
/// </summary>
internal static class RemoveCommand
{
    public static Command Create(CliApp app)
    {
        var reference = new Argument<string>("reference") { Description = "The version to delete, with an explicit selector, e.g. acme/fraud:2." };
        var command = new Command("rm", "Delete a version (soft: it stays in the history, but is no longer listed or pullable).") { reference };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var text = parse.GetValue(reference)!;
            var version = context.Reference(text);
            if (!version.HasSelector)
            {
                throw new UsageException($"'berth rm' deletes one version and needs it named explicitly, e.g. {version.ModelName}:2 or {version.ModelName}@sha256:<hex>; '{text}' has no selector.");
            }

            var deleted = await context.Client.DeleteVersionAsync(version, cancellationToken: cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(deleted, CliJson.Context.VersionInfo);
            }
            else
            {
                context.Output.Line($"Deleted {deleted.Reference}{(deleted.SemVer is { } s ? $" ({s})" : "")}: no longer listed or pullable; its history is kept.");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
