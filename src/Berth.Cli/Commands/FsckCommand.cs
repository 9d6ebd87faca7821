using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth fsck [--quarantine]</c>: scrubs the server's blob store (server administrators), online and throttled. Prints
/// each problem as it is found, with the versions it affects, then a summary; with <c>--json</c>, one JSON object per line
/// (the server's lines). Exits 1 when it found problems, so a scheduled run can alert.
/// </summary>
internal static class FsckCommand
{
    public static Command Create(CliApp app)
    {
        var quarantine = new Option<bool>("--quarantine")
        {
            Description = "Quarantine missing or corrupt blobs: their versions then fail with blob_corrupt instead of serving bad bytes (a later fsck that finds them whole lifts it).",
        };
        var command = new Command("fsck",
            "Re-hash every stored blob and check the database and the blob store against each other (server administrators; online, throttled by Registry:FsckBytesPerSecond). Exits 1 when it finds problems.")
        {
            quarantine,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            FsckReport? report = null;
            await foreach (var line in context.Client.RunFsckAsync(parse.GetValue(quarantine), cancellationToken))
            {
                if (context.Output.Json)
                {
                    context.Output.Line(System.Text.Json.JsonSerializer.Serialize(line, CliJson.Lines.FsckLine));
                }
                else if (line.Problem is { } problem)
                {
                    foreach (var text in Describe(problem))
                    {
                        context.Output.Line(text);
                    }
                }
                else if (line.Progress is { } progress && context.Output.ShowProgress)
                {
                    Output.Hint($"… {progress.BlobsChecked.ToString(CultureInfo.InvariantCulture)} blobs ({TextFormat.Bytes(progress.BytesChecked)}) checked, " +
                        $"{TextFormat.Count(progress.Problems, "problem")} so far");
                }

                report = line.Report ?? report;
            }

            if (report is null)
            {
                return ExitCodes.Failure;
            }

            if (!context.Output.Json)
            {
                foreach (var text in Summary(report))
                {
                    context.Output.Line(text);
                }
            }

            return report.Problems == 0 ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    private static IEnumerable<string> Describe(FsckProblem problem)
    {
        var state = problem.Quarantined ? " (quarantined)" : "";
        yield return $"{problem.Kind} {problem.Digest}{state}: {problem.Detail}";
        yield return problem.Versions.Count == 0 ? "  used by no version" : $"  used by {string.Join(", ", problem.Versions)}";
    }

    private static IEnumerable<string> Summary(FsckReport report)
    {
        yield return $"Checked {TextFormat.Count(report.BlobsChecked, "blob")} ({TextFormat.Bytes(report.BytesChecked)} re-hashed) and " +
            $"{TextFormat.Count(report.StoredChecked, "stored object")} in {Duration(report.FinishedAt - report.StartedAt)}.";
        yield return report.Problems == 0
            ? "No problems found."
            : $"{TextFormat.Count(report.Problems, "problem")}: {report.Missing} missing, {report.SizeMismatches} of the wrong size, " +
              $"{report.DigestMismatches} corrupt, {report.Strays} stray.";
        if (report.Quarantined > 0)
        {
            yield return $"{TextFormat.Count(report.Quarantined, "blob")} quarantined: their versions fail with blob_corrupt until the bytes are restored and fsck runs again.";
        }
        else if (!report.Quarantine && report.Problems > report.Strays)
        {
            yield return "Run 'berth fsck --quarantine' to stop serving the missing or corrupt blobs; restore them from a backup (docs/operations.md).";
        }

        foreach (var digest in report.ReleasedDigests)
        {
            yield return $"Released {digest}: its bytes are whole again.";
        }
    }

    private static string Duration(TimeSpan span) =>
        span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes} min {span.Seconds} s" : $"{span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s";
}
