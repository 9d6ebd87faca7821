using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Client.Transfers;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth pull acme/fraud:1.2.0 -o ./out</c>: resolves the reference once, downloads every file
/// verified against its digest, and keeps files already present with the right content.
/// </summary>
internal static class PullCommand
{
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
        var force = new Option<bool>("--force") { Description = "Download every file again, even those already present with the right content." };
        var command = new Command("pull", "Download a version into a folder, byte for byte, verified.") { reference, output, parallel, force };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var version = context.Reference(parse.GetValue(reference)!);
            var folder = parse.GetValue(output) ?? version.Model;
            if (File.Exists(folder))
            {
                throw new UsageException($"--output '{folder}' is a file; give a folder.");
            }

            var options = new PullOptions { Parallelism = parse.GetValue(parallel), SkipUnchanged = !parse.GetValue(force) };
            var client = context.Client;
            var result = await TransferProgressView.RunAsync(context.Output, progress =>
                client.PullAsync(version, folder, options, progress, cancellationToken));

            if (context.Output.Json)
            {
                context.Output.WriteJson(
                    new PullOutput(result.Version, result.Directory, result.FilesDownloaded, result.BytesDownloaded, result.FilesUnchanged, result.Elapsed.TotalSeconds),
                    CliJson.Context.PullOutput);
                return ExitCodes.Success;
            }

            var v = result.Version;
            var keptBytes = Math.Max(0, v.TotalSize - result.BytesDownloaded);
            context.Output.Title($"Pulled {v.Reference}{(v.SemVer is { } s ? $" ({s})" : "")} into {result.Directory}");
            context.Output.Fields(
            [
                ("digest", v.ManifestDigest),
                ("written", $"{TextFormat.Count(result.FilesDownloaded, "file")}, {TextFormat.Bytes(result.BytesDownloaded)}"),
                ("kept", $"{TextFormat.Count(result.FilesUnchanged, "file")}, {TextFormat.Bytes(keptBytes)} (already up to date)"),
                ("took", TextFormat.Seconds(result.Elapsed)),
            ], indent: 2);
            return ExitCodes.Success;
        });
        return command;
    }
}
