using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth quota show|set</c>: a namespace's storage quotas (logical bytes, versions) and its usage. Server
/// administrators set them; a push over a quota is refused before any byte is uploaded.
/// </summary>
internal static class QuotaCommands
{
    private const string Unlimited = "unlimited";

    public static Command Create(CliApp app)
    {
        var command = new Command("quota", "Show and set the storage quotas of a namespace (bytes, versions) and its usage.");
        command.Subcommands.Add(Show(app));
        command.Subcommands.Add(Set(app));
        return command;
    }

    private static Command Show(CliApp app)
    {
        var ns = new Argument<string>("namespace") { Description = "The namespace, e.g. acme." };
        var command = new Command("show", "Show a namespace's quotas and what it uses.") { ns };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            Write(context, await context.Client.GetQuotaAsync(CliContext.Namespace(parse.GetValue(ns)!), cancellationToken));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Set(CliApp app)
    {
        var ns = new Argument<string>("namespace") { Description = "The namespace, e.g. acme." };
        var maxBytes = new Option<string?>("--max-bytes") { Description = "The most bytes its versions may hold, e.g. 100GiB or 500GB; 'unlimited' removes the quota." };
        var maxVersions = new Option<string?>("--max-versions") { Description = "The most versions it may hold, e.g. 10000; 'unlimited' removes the quota." };
        var command = new Command("set", "Set a namespace's quotas (server administrators); a quota you leave out stays as it is.") { ns, maxBytes, maxVersions };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var name = CliContext.Namespace(parse.GetValue(ns)!);
            var bytesText = parse.GetValue(maxBytes);
            var versionsText = parse.GetValue(maxVersions);
            if (bytesText is null && versionsText is null)
            {
                throw new UsageException("Give --max-bytes, --max-versions or both (a size, a count, or 'unlimited').");
            }

            var current = await context.Client.GetQuotaAsync(name, cancellationToken);
            var request = new SetQuotaRequest(
                bytesText is null ? current.MaxBytes : IsUnlimited(bytesText) ? null : InputParser.Bytes(bytesText, "--max-bytes"),
                versionsText is null ? current.MaxVersions : IsUnlimited(versionsText) ? null : Count(versionsText));
            Write(context, await context.Client.SetQuotaAsync(name, request, cancellationToken));
            return ExitCodes.Success;
        });
        return command;
    }

    private static bool IsUnlimited(string text) => string.Equals(text.Trim(), Unlimited, StringComparison.OrdinalIgnoreCase);

    private static long Count(string text) =>
        long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            ? count
            : throw new UsageException($"--max-versions takes a number of versions or 'unlimited'; got '{text}'.");

    private static void Write(CliContext context, QuotaInfo quota)
    {
        if (context.Output.Json)
        {
            context.Output.WriteJson(quota, CliJson.Context.QuotaInfo);
            return;
        }

        context.Output.Line($"Quota of {quota.Namespace}:");
        context.Output.Line($"  bytes:    {Usage(TextFormat.Bytes(quota.UsedBytes), quota.MaxBytes is { } b ? TextFormat.Bytes(b) : null, quota.UsedBytes, quota.MaxBytes)}");
        context.Output.Line($"  versions: {Usage(quota.UsedVersions.ToString(CultureInfo.InvariantCulture), quota.MaxVersions?.ToString(CultureInfo.InvariantCulture), quota.UsedVersions, quota.MaxVersions)}");
    }

    /// <summary><c>1.2 GiB of 100 GiB (1%)</c>, or <c>1.2 GiB (unlimited)</c>.</summary>
    internal static string Usage(string used, string? max, long usedValue, long? maxValue) =>
        max is null ? $"{used} ({Unlimited})"
        : $"{used} of {max} ({(maxValue > 0 ? Math.Floor(100.0 * usedValue / maxValue.Value) : 100).ToString(CultureInfo.InvariantCulture)}%)";
}
