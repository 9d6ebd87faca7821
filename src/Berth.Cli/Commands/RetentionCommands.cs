using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth retention show|set|rm|dry-run</c>: which versions garbage collection deletes in a namespace (or
/// one model, whose own policy replaces its namespace's).
/// </summary>
internal static class RetentionCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("retention", "Show and change retention policies: which old versions garbage collection deletes.");
        command.Subcommands.Add(Show(app));
        command.Subcommands.Add(Set(app));
        command.Subcommands.Add(Remove(app));
        command.Subcommands.Add(DryRun(app));
        return command;
    }

    private static Command Show(CliApp app)
    {
        var scope = PolicyCommands.ScopeArgument();
        var command = new Command("show", "Show the retention policy of a namespace, or a model's own.") { scope };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model) = PolicyCommands.Scope(context, parse.GetValue(scope)!, "retention show");
            Write(context, await context.Client.GetRetentionAsync(ns, model, cancellationToken));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Set(CliApp app)
    {
        var scope = PolicyCommands.ScopeArgument();
        var keepLast = new Option<int?>("--keep-last") { Description = "Always keep the newest N ready versions." };
        var keepStages = new Option<string?>("--keep-stages") { Description = "Always keep versions in these stages (comma-separated), e.g. production,staging." };
        var keepAliased = new Option<bool>("--keep-aliased") { Description = "Accepted for compatibility: versions an alias points at are always kept." };
        var olderThan = new Option<string>("--older-than") { Description = "Delete the other versions once they are this old, e.g. 90d, 12h, 2w.", Required = true };
        var runsOlderThan = new Option<string?>("--runs-older-than") { Description = "Also delete the training runs that ended this long ago and produced no version (no version names them), e.g. 30d. Without it runs are left alone." };
        var command = new Command("set", "Set the retention policy of a namespace or a model (namespace admins); 'berth gc' applies it.") { scope, keepLast, keepStages, keepAliased, olderThan, runsOlderThan };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model) = PolicyCommands.Scope(context, parse.GetValue(scope)!, "retention set");
            var stages = parse.GetValue(keepStages)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var runsAge = parse.GetValue(runsOlderThan) is { } runsText ? InputParser.Age(runsText, "--runs-older-than") : (TimeSpan?)null;
            var request = new SetRetentionRequest(InputParser.Age(parse.GetValue(olderThan)!, "--older-than"), parse.GetValue(keepLast), stages, parse.GetValue(keepAliased), runsAge);
            Write(context, await context.Client.SetRetentionAsync(ns, model, request, cancellationToken));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var scope = PolicyCommands.ScopeArgument();
        var command = new Command("rm", "Remove the retention policy of a namespace, or a model's own (its namespace's applies again).") { scope };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model) = PolicyCommands.Scope(context, parse.GetValue(scope)!, "retention rm");
            await context.Client.RemoveRetentionAsync(ns, model, cancellationToken);
            context.Output.Line($"Removed the retention policy of {(model is null ? ns : $"{ns}/{model}")}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command DryRun(CliApp app)
    {
        var scope = PolicyCommands.ScopeArgument();
        var command = new Command("dry-run", "List the versions the retention policies in effect would delete now and those they keep, with why; changes nothing.") { scope };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model) = PolicyCommands.Scope(context, parse.GetValue(scope)!, "retention dry-run");
            var preview = await context.Client.PreviewRetentionAsync(ns, model, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(preview, CliJson.Context.RetentionPreview);
                return ExitCodes.Success;
            }

            var rows = preview.Versions.Select(v => (Action: "delete", Version: v)).Concat(preview.Kept.Select(v => (Action: "keep", Version: v)))
                .OrderBy(r => r.Version.Model, StringComparer.Ordinal).ThenByDescending(r => r.Version.Version).ToList();
            if (rows.Count > 0)
            {
                context.Output.Table(
                    ["VERSION", "SEMVER", "CREATED", "STAGE", "SIZE", "ACTION", "WHY"],
                    rows.Select(r => (IReadOnlyList<string>)
                    [
                        r.Version.Reference,
                        r.Version.SemVer ?? "-",
                        TextFormat.Time(r.Version.CreatedAt),
                        r.Version.Stage ?? "-",
                        TextFormat.Bytes(r.Version.Bytes),
                        r.Action,
                        string.Join("; ", r.Version.Reasons),
                    ]));
            }

            context.Output.Line(Summary(preview));
            if (preview.Runs is { Count: > 0 } runs)
            {
                context.Output.Table(["RUN", "NAME", "STATUS", "ENDED", "ACTION"],
                    runs.Select(r => (IReadOnlyList<string>)[r.Reference, r.Name ?? "-", r.Status, r.EndedAt is { } ended ? TextFormat.Time(ended) : "-", "delete"]));
                context.Output.Line($"{TextFormat.Count(runs.Count, "run")} that produced no version would be deleted by the next 'berth gc'.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>What the dry run comes to: the bytes freed count each blob once, and only those no remaining version keeps.</summary>
    private static string Summary(RetentionPreview preview)
    {
        var kept = preview.Kept.Count == 0 ? "" : $" {TextFormat.Count(preview.Kept.Count, "old version")} {(preview.Kept.Count == 1 ? "is" : "are")} kept.";
        if (preview.Versions.Count == 0)
        {
            return "Nothing would be deleted." + kept;
        }

        var held = preview.Versions.Sum(v => v.Bytes);
        var shared = held == preview.FreedBytes ? "" : $" (their files hold {TextFormat.Bytes(held)}; the rest is shared with versions that stay)";
        return $"{TextFormat.Count(preview.Versions.Count, "version")} would be deleted by the next 'berth gc', freeing {TextFormat.Bytes(preview.FreedBytes)} once purged{shared}.{kept}";
    }

    private static void Write(CliContext context, RetentionPolicyInfo policy)
    {
        if (context.Output.Json)
        {
            context.Output.WriteJson(policy, CliJson.Context.RetentionPolicyInfo);
            return;
        }

        context.Output.Line($"Retention of {(policy.Model is null ? policy.Namespace : $"{policy.Namespace}/{policy.Model}")}: delete ready versions older than {Age(policy.OlderThan)}, keeping");
        context.Output.Line($"  the newest {(policy.KeepLast ?? 0).ToString(CultureInfo.InvariantCulture)}");
        context.Output.Line($"  stages: {(policy.KeepStages.Count == 0 ? "-" : TextFormat.List(policy.KeepStages))}");
        context.Output.Line("  aliased versions, and versions live or deploying in an environment (always)");
        context.Output.Line(policy.RunsOlderThan is { } runs
            ? $"Runs: delete those that ended more than {Age(runs)} ago and produced no version."
            : "Runs: kept (--runs-older-than deletes those that produced no version).");
    }

    private static string Age(TimeSpan age) =>
        age.TotalDays >= 1 && age.Ticks % TimeSpan.TicksPerDay == 0 ? $"{age.TotalDays.ToString(CultureInfo.InvariantCulture)}d"
        : age.Ticks % TimeSpan.TicksPerHour == 0 ? $"{age.TotalHours.ToString(CultureInfo.InvariantCulture)}h"
        : $"{age.TotalMinutes.ToString(CultureInfo.InvariantCulture)}m";
}
