using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth history acme/fraud [--kind …] [--stage …|--alias …]</c>: a model's lifecycle, oldest first.
/// With <c>--at</c> it answers which version held a stage, or which version an alias named, at a moment.
/// </summary>
internal static class HistoryCommand
{
    public static Command Create(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var kind = new Option<string>("--kind", "-k") { Description = "Only this kind of entry: stage, alias, deleted or request." };
        kind.AcceptOnlyFromAmong("stage", "alias", "deleted", "request");
        var stage = new Option<string>("--stage") { Description = "Only entries about this stage (with --at: which versions were in it)." };
        var alias = new Option<string>("--alias") { Description = "Only entries about this alias (with --at: which version it named)." };
        var at = new Option<string>("--at")
        {
            HelpName = "time",
            Description = "Time travel: which version held --stage or --alias at this moment (ISO 8601: 2026-03-01, 2026-03-01T12:00Z; UTC unless an offset is given).",
        };
        var command = new Command("history", "Show stage changes, alias moves, requests and deletions of a model, oldest first; or, with --at, who held a stage or alias then.")
        {
            model, kind, stage, alias, at,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "history");
            var stageName = parse.GetValue(stage) is { } s ? Checked(s, Names.CheckStage(s)) : null;
            var aliasName = parse.GetValue(alias) is { } a ? Checked(a, Names.CheckAlias(a, stages: [])) : null;
            if (stageName is not null && aliasName is not null)
            {
                throw new UsageException("Give --stage or --alias, not both.");
            }

            if (parse.GetValue(at) is { } text)
            {
                if (stageName is null && aliasName is null)
                {
                    throw new UsageException("--at asks who held a stage or an alias at a moment: add --stage <stage> or --alias <alias>.");
                }

                if (parse.GetValue(kind) is not null)
                {
                    throw new UsageException("--kind filters the listing; --at answers one question: leave --kind out.");
                }

                await HoldersAsync(context, reference, InputParser.Time(text, "--at"), stageName, aliasName, cancellationToken);
                return ExitCodes.Success;
            }

            var entries = await context.Client.GetHistoryAsync(CliContext.NamespaceOf(reference), reference.Model, parse.GetValue(kind), stageName, aliasName, cancellationToken)
                .ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(entries, CliJson.Context.ListHistoryEntry);
            }
            else if (entries.Count == 0)
            {
                context.Output.Line($"No history for {reference.ModelName}{(stageName is not null ? $" about stage {stageName}" : aliasName is not null ? $" about alias {aliasName}" : "")} yet.");
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

    private static async Task HoldersAsync(CliContext context, ModelReference reference, DateTimeOffset at, string? stage, string? alias, CancellationToken cancellationToken)
    {
        var holders = await context.Client.GetHoldersAsync(CliContext.NamespaceOf(reference), reference.Model, at, stage, alias, cancellationToken);
        if (context.Output.Json)
        {
            context.Output.WriteJson(holders, CliJson.Context.HoldersInfo);
            return;
        }

        var when = TextFormat.Time(at);
        var versions = holders.Versions.Select(v => $"{reference.ModelName}:{v.ToString(CultureInfo.InvariantCulture)}").ToList();
        context.Output.Line((alias, versions.Count) switch
        {
            (not null, 0) => $"At {when}, {reference.ModelName} had no alias {alias}.",
            (not null, _) => $"At {when}, alias {alias} pointed to {versions[0]}.",
            (null, 0) => $"At {when}, no version of {reference.ModelName} was in stage {stage}.",
            (null, 1) => $"At {when}, {versions[0]} was in stage {stage}.",
            _ => $"At {when}, {TextFormat.List(versions)} were in stage {stage}.",
        });
    }

    private static string Change(HistoryEntry e) => e.Kind switch
    {
        "stage" => $"{e.FromStage ?? "(none)"} -> {e.ToStage ?? "(none)"}{Request(e)}",
        "alias" when e.Version is null => $"{e.Alias} removed (was {Number(e.PreviousVersion)}){Request(e)}",
        "alias" when e.PreviousVersion is null => $"{e.Alias} -> {Number(e.Version)}{Request(e)}",
        "alias" => $"{e.Alias}: {Number(e.PreviousVersion)} -> {Number(e.Version)}{Request(e)}",
        "deleted" => "deleted",
        "request" => $"request #{e.RequestId?.ToString(CultureInfo.InvariantCulture)} {e.Event}: {(e.Alias is { } a ? $"alias {a}" : $"stage {e.ToStage}")}",
        _ => e.Kind,
    };

    private static string Checked(string name, string? problem) => problem is null ? name : throw new UsageException(problem);

    private static string Request(HistoryEntry e) => e.RequestId is { } id ? $" (request #{id.ToString(CultureInfo.InvariantCulture)})" : "";

    private static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
