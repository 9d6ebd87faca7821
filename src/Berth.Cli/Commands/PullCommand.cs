using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Client.Transfers;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth pull acme/fraud:1.2.0 -o ./out</c>: resolves the reference once, downloads every file verified
/// against its digest (resuming partial downloads of an earlier pull), keeps files already identical, refuses
/// to replace files with other content unless <c>--force</c>, and with <c>--clean</c> removes what the version
/// does not contain. Links inside the folder are never followed.
/// </summary>
internal static class PullCommand
{
    /// <summary>How many conflicts or warnings are listed one per line before the rest are counted.</summary>
    private const int Listed = 20;

    public static Command Create(CliApp app)
    {
        var reference = new Argument<string>("reference") { Description = "The version: namespace/model[:selector] or namespace/model@sha256:<hex> (no selector = latest)." };
        var output = new Option<string>("--output", "-o") { Description = "Folder to write into (default: ./<model>)." };
        var parallel = new Option<int>("--parallel", "-p") { Description = "Files downloaded at the same time.", DefaultValueFactory = _ => 4 };
        parallel.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 64)
            {
                result.AddError("--parallel must be between 1 and 64.");
            }
        });
        var force = new Option<bool>("--force") { Description = "Replace files in the folder that differ from the version's (and links or folders in the way); without it such a pull writes nothing." };
        var clean = new Option<bool>("--clean") { Description = "Make the folder exactly the version: like --force, and also remove every file that is not part of it." };
        var command = new Command("pull", "Download a version into a folder, verified byte for byte; resumes interrupted downloads.") { reference, output, parallel, force, clean };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var version = context.Reference(parse.GetValue(reference)!);
            var folder = parse.GetValue(output) ?? version.Model;
            if (File.Exists(folder))
            {
                throw new UsageException($"--output '{folder}' is a file; give a folder.");
            }

            var options = new PullOptions { Parallelism = parse.GetValue(parallel), Overwrite = parse.GetValue(force), Clean = parse.GetValue(clean) };
            var client = context.Client;
            PullResult result;
            try
            {
                result = await TransferProgressView.RunAsync(context.Output, progress =>
                    client.PullAsync(version, folder, options, progress, cancellationToken));
            }
            catch (PullConflictException e)
            {
                var lines = e.Conflicts.Take(Listed).Select(c => $"  {c.Path}: {c.Reason}").ToList();
                if (e.Conflicts.Count > Listed)
                {
                    lines.Add($"  … and {e.Conflicts.Count - Listed} more");
                }

                throw new CliException($"{e.Message}\n{string.Join('\n', lines)}",
                    hint: "pull with --force to replace them, or with --clean to make the folder exactly the version (also removing files it does not contain).");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw new CliException("Cancelled. Downloads that had started are kept as .berth-partial files: run the same pull again to resume them.", ExitCodes.Cancelled);
            }

            foreach (var warning in result.Warnings.Take(Listed))
            {
                Output.Warning(warning.Message);
            }

            if (result.Warnings.Count > Listed)
            {
                Output.Warning($"… and {result.Warnings.Count - Listed} more (all of them in --json output).");
            }

            if (context.Output.Json)
            {
                context.Output.WriteJson(
                    new PullOutput(
                        result.Version, result.Directory, result.FilesDownloaded, result.BytesWritten, result.BytesDownloaded, result.BytesResumed,
                        result.FilesUnchanged, result.Removed, result.Warnings.Select(w => new PullWarningOutput(w.Kind, w.Path, w.Message)).ToList(),
                        result.Elapsed.TotalSeconds),
                    CliJson.Context.PullOutput);
                return ExitCodes.Success;
            }

            var v = result.Version;
            var keptBytes = Math.Max(0, v.TotalSize - result.BytesWritten);
            var resumed = result.BytesResumed > 0 ? $" ({TextFormat.Bytes(result.BytesResumed)} of it resumed from partial downloads)" : "";
            context.Output.Title($"Pulled {v.Reference}{(v.SemVer is { } s ? $" ({s})" : "")} into {result.Directory}");
            context.Output.Fields(
            [
                ("digest", v.ManifestDigest),
                ("written", $"{TextFormat.Count(result.FilesDownloaded, "file")}, {TextFormat.Bytes(result.BytesWritten)}{resumed}"),
                ("kept", $"{TextFormat.Count(result.FilesUnchanged, "file")}, {TextFormat.Bytes(keptBytes)} (already up to date)"),
                ("removed", options.Clean ? $"{TextFormat.Count(result.Removed.Count, "path")} not in the version" : null),
                ("took", TextFormat.Seconds(result.Elapsed)),
            ], indent: 2);
            return ExitCodes.Success;
        });
        return command;
    }
}
