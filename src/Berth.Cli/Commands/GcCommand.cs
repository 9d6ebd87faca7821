using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth gc [--dry-run]</c>: garbage collection on the server (server administrators). Text and JSON say the
/// same: the versions retention deletes (by name), the purge, the blobs and bytes deleted; the dry run says what
/// would go, and changes nothing.
/// </summary>
internal static class GcCommand
{
    public static Command Create(CliApp app)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Only report what would be deleted (versions retention selects, purges, blobs) and how many bytes." };
        var command = new Command("gc", "Apply retention policies, purge deleted versions past the purge delay, delete unreferenced blobs and expired upload sessions (server administrators).") { dryRun };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var report = await context.Client.RunGcAsync(parse.GetValue(dryRun), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(report, CliJson.Context.GcReport);
                return ExitCodes.Success;
            }

            if (!report.DryRun && !report.Swept)
            {
                context.Output.Line("Another server is collecting garbage right now; nothing was done. Try again when it has finished.");
                return ExitCodes.Success;
            }

            foreach (var line in Describe(report))
            {
                context.Output.Line(line);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static IEnumerable<string> Describe(GcReport report)
    {
        var verb = report.DryRun ? "would be" : "were";
        var retained = $"{TextFormat.Count(report.RetentionDeleted, "version")} {verb} deleted by retention policies";
        yield return report.RetentionDeleted == 0 ? retained
            : $"{retained} (freeing {TextFormat.Bytes(report.RetentionFreedBytes)} once purged; 'berth retention dry-run' says why):";
        foreach (var version in report.RetentionVersions)
        {
            yield return $"  {version}";
        }

        if (report.RetentionVersions.Count < report.RetentionDeleted)
        {
            yield return $"  … and {report.RetentionDeleted - report.RetentionVersions.Count} more";
        }

        if (report.RetentionRunsDeleted > 0)
        {
            yield return $"{TextFormat.Count(report.RetentionRunsDeleted, "run")} that produced no version {verb} deleted by retention policies:";
            var runs = report.RetentionRuns ?? [];
            foreach (var run in runs)
            {
                yield return $"  {run}";
            }

            if (runs.Count < report.RetentionRunsDeleted)
            {
                yield return $"  … and {report.RetentionRunsDeleted - runs.Count} more";
            }
        }

        yield return $"{TextFormat.Count(report.PurgedVersions, "deleted version")} {verb} purged";
        yield return $"{TextFormat.Count(report.Blobs, "unreferenced blob")} ({TextFormat.Bytes(report.Bytes)}) {verb} deleted";
        foreach (var digest in report.Digests)
        {
            yield return $"  {digest}";
        }

        if (report.Digests.Count < report.Blobs)
        {
            yield return $"  … and {report.Blobs - report.Digests.Count} more";
        }

        yield return $"{TextFormat.Count(report.OrphanFiles, "orphan file")} ({TextFormat.Bytes(report.OrphanBytes)}) {verb} deleted";
        yield return $"{TextFormat.Count(report.ExpiredUploads, "expired upload session")} {verb} removed";
        if (report.DryRun)
        {
            yield return "Dry run: nothing was changed.";
        }
    }
}
