using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Server.Backup;
using Berth.Server.Hosting;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth backup &lt;dir&gt;</c> and <c>berth restore &lt;dir&gt; --data &lt;folder&gt;</c>: backups of the embedded default
/// (SQLite and a local blob folder), run on the machine that holds the data folder, while the server runs or not. They
/// work on the files, not through the server: nothing of the registry has to travel over HTTP, and a restore has no
/// server to talk to anyway (docs/operations.md says more).
/// </summary>
internal static class BackupCommands
{
    public static Command Backup(CliApp app)
    {
        var directory = new Argument<string>("dir") { Description = "The backup folder: new, empty, or an earlier backup, which is brought up to date (only new blobs are copied)." };
        var data = DataOption("The server's data folder.");
        var blobs = BlobsOption();
        var wait = new Option<int>("--wait") { Description = "Minutes to wait for a garbage collection in progress to finish (default 10).", DefaultValueFactory = _ => 10 };
        var command = new Command("backup",
            "Back up a server's data folder (SQLite and local blobs) consistently while it runs: the database with SQLite's online backup, then the blobs it records, incrementally.")
        {
            directory, data, blobs, wait,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            BackupResult result;
            try
            {
                result = await DataFolderBackup.RunAsync(parse.GetValue(directory)!, ServerArgs(parse.GetValue(data), parse.GetValue(blobs)),
                    TimeSpan.FromMinutes(Math.Max(0, parse.GetValue(wait))), logger: null, cancellationToken);
            }
            catch (BackupException e)
            {
                throw new CliException(e.Message);
            }

            if (context.Output.Json)
            {
                context.Output.WriteJson(result, CliJson.Context.BackupResult);
            }
            else
            {
                context.Output.Line($"Backed up {TextFormat.Count(result.ReadyVersions, "ready version")} to {result.Directory} (snapshot of {TextFormat.Time(result.CreatedAt)}).");
                context.Output.Line($"{TextFormat.Count(result.Blobs, "blob")} ({TextFormat.Bytes(result.Bytes)}): {result.CopiedBlobs.ToString(CultureInfo.InvariantCulture)} copied now " +
                    $"({TextFormat.Bytes(result.CopiedBytes)}, each verified against its digest), the rest already in the backup; " +
                    $"{TextFormat.Count(result.PrunedBlobs, "blob")} no longer needed removed.");
            }

            return Unsaved(result.Missing, result.Corrupt, "the store", "the backup lacks them; run 'berth fsck' on the server");
        });
        return command;
    }

    public static Command Restore(CliApp app)
    {
        var directory = new Argument<string>("dir") { Description = "A folder written by 'berth backup'." };
        var data = DataOption("The data folder to restore into (new or empty, unless --force).");
        data.Required = true;
        var blobs = BlobsOption();
        var force = new Option<bool>("--force") { Description = "Restore into a folder that is not empty, replacing its database and blobs (never one a server is running on)." };
        var command = new Command("restore", "Restore a data folder from a backup made by 'berth backup'; then start a server on it with 'berth serve --data <folder>'.")
        {
            directory, data, blobs, force,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            RestoreResult result;
            try
            {
                result = await DataFolderRestore.RunAsync(parse.GetValue(directory)!, ServerArgs(parse.GetValue(data), parse.GetValue(blobs)), parse.GetValue(force), cancellationToken);
            }
            catch (BackupException e)
            {
                throw new CliException(e.Message);
            }

            if (context.Output.Json)
            {
                context.Output.WriteJson(result, CliJson.Context.RestoreResult);
            }
            else
            {
                context.Output.Line($"Restored {TextFormat.Count(result.ReadyVersions, "ready version")} and {TextFormat.Count(result.Blobs, "blob")} ({TextFormat.Bytes(result.Bytes)}, " +
                    $"each verified against its digest) into {result.DataDirectory}, as of {TextFormat.Time(result.SnapshotAt)}.");
                context.Output.Line($"Start the server with 'berth serve --data {result.DataDirectory}', then check it with 'berth audit verify' and 'berth fsck'.");
            }

            return Unsaved(result.Missing, result.Corrupt, "the backup", "versions using them will fail to download");
        });
        return command;
    }

    /// <summary>Warns about blobs that could not be copied; exit 1 when there are any.</summary>
    private static int Unsaved(IReadOnlyList<string> missing, IReadOnlyList<string> corrupt, string where, string consequence)
    {
        foreach (var digest in missing)
        {
            Output.Error($"{digest} is missing from {where}.");
        }

        foreach (var digest in corrupt)
        {
            Output.Error($"{digest} is corrupt in {where} (its bytes do not match the digest).");
        }

        if (missing.Count + corrupt.Count == 0)
        {
            return ExitCodes.Success;
        }

        Output.Hint($"{TextFormat.Count(missing.Count + corrupt.Count, "blob")} could not be copied: {consequence}.");
        return ExitCodes.Failure;
    }

    private static Option<string> DataOption(string description) =>
        new("--data") { Description = $"{description} Default: BERTH_DATA, or ./{ServerSettings.DefaultData}, as for 'berth serve'." };

    private static Option<string> BlobsOption() =>
        new("--blobs") { Description = "The blob folder, when the server runs with --blobs <folder> (default: store/ in the data folder)." };

    private static string[] ServerArgs(string? data, string? blobs)
    {
        var args = new List<string>();
        if (data is not null)
        {
            args.AddRange(["--data", data]);
        }

        if (blobs is not null)
        {
            args.AddRange(["--blobs", Path.GetFullPath(blobs)]);
        }

        return [.. args];
    }
}
