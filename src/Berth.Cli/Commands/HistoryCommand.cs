using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary><c>berth history acme/fraud [--kind stage|alias|deleted]</c>: a model's lifecycle, oldest first.</summary>
internal static class HistoryCommand
{
    public static Command Create(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var kind = new Option<string>("--kind", "-k") { Description = "Only this kind of entry: stage, alias or deleted." };
        kind.AcceptOnlyFromAmong("stage", "alias", "deleted");
        var command = new Command("history", "Show stage changes, alias moves and deletions of a model, oldest first.") { model, kind };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "history");
            var entries = await context.Client.GetHistoryAsync(CliContext.NamespaceOf(reference), reference.Model, parse.GetValue(kind), cancellationToken: cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(entries, CliJson.Context.ListHistoryEntry);
            }
            else if (entries.Count == 0)
            {
                context.Output.Line($"No history for {reference.ModelName} yet.");
            }
            else
            {
                context.Output.Table(
                    ["TIME", "KIND", "VERSION", "CHANGE", "BY", "COMMENT"],
                    entries.Select(e => (IReadOnlyList<string>)
                    [
                        TextFormat.Time(e.At),
                        e.Kind,
                        e.Version is { } v ? v.ToString(CultureInfo.InvariantCulture) : "-",
                        Change(e),
                        e.Actor,
                        e.Comment ?? "",
                    ]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static string Change(HistoryEntry e) => e.Kind switch
    {
        "stage" => $"{e.FromStage ?? "(none)"} -> {e.ToStage ?? "(none)"}",
        "alias" when e.Version is null => $"{e.Alias} removed (was {Number(e.PreviousVersion)})",
        "alias" when e.PreviousVersion is null => $"{e.Alias} -> {Number(e.Version)}",
        "alias" => $"{e.Alias}: {Number(e.PreviousVersion)} -> {Number(e.Version)}",
        "deleted" => "deleted",
        _ => e.Kind,
    };

    private static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
