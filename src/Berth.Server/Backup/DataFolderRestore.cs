using Berth.Core.Backup;
using Berth.Core.Common;
using Microsoft.Data.Sqlite;

namespace Berth.Server.Backup;

/// <summary>
/// <c>berth restore &lt;dir&gt; --data &lt;folder&gt;</c>: brings a data folder back from a backup. It refuses a folder a
/// server is running on (one holds a <c>replica-&lt;n&gt;.lock</c>), and a folder that is not empty unless forced, in which
/// case it replaces Berth's own files there (the database and its journal, the blob folder) and leaves others alone.
/// Blobs are copied first, each hashed against its digest; the database comes last, under a temporary name renamed into
/// place, so an interrupted restore leaves no database that claims blobs it lacks (run it again with <c>--force</c>).
/// </summary>
public static class DataFolderRestore
{
    private static readonly string[] DatabaseFiles = ["berth.db", "berth.db-wal", "berth.db-shm", "berth.db-journal", "berth.db.partial"];

    /// <param name="directory">A folder written by <c>berth backup</c>.</param>
    /// <param name="serverArgs"><c>--data</c> (and <c>--blobs</c> for a blob folder outside it), as <c>berth serve</c> will take them.</param>
    /// <param name="force">Replace Berth's files in a folder that is not empty.</param>
    /// <exception cref="BackupException">The restore cannot go ahead; the message says why.</exception>
    public static async Task<RestoreResult> RunAsync(string directory, string[] serverArgs, bool force, CancellationToken cancellationToken)
    {
        var layout = new BackupLayout(directory);
        var manifest = await layout.ReadManifestAsync(cancellationToken);
        if (manifest is null || !File.Exists(layout.Database))
        {
            throw new BackupException($"{layout.Root} is not a Berth backup (it has no {BackupLayout.ManifestFile} and {BackupLayout.DatabaseFile}); 'berth backup' writes one.");
        }

        var target = DataFolderSource.Resolve(serverArgs);
        var data = target.DataDirectory;
        var store = target.Blobs;
        EnsureNoServer(data);
        var occupied = Occupied(data).Concat(Occupied(store.Root)).Distinct(StringComparer.Ordinal).ToList();
        if (occupied.Count > 0 && !force)
        {
            throw new BackupException($"{data} is not empty ({string.Join(", ", occupied.Take(5).Select(Path.GetFileName))}{(occupied.Count > 5 ? ", …" : "")}): " +
                "restore into a new or empty folder, or add --force to replace the database and blobs in it.");
        }

        PrivateFiles.CreateDirectory(data);
        await using var restoring = DataFolderBackup.OpenLock(Path.Combine(data, "restore.lock"), $"Another 'berth restore' is writing to {data} right now.");
        if (force)
        {
            foreach (var name in DatabaseFiles)
            {
                File.Delete(Path.Combine(data, name));
            }

            foreach (var folder in new[] { Path.Combine(store.Root, "blobs"), store.UploadsRoot })
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        }

        var missing = new List<string>();
        var corrupt = new List<string>();
        var blobs = 0;
        var bytes = 0L;
        Directory.CreateDirectory(store.BlobsRoot);
        await foreach (var (digest, size) in BackupLayout.ReadBlobsAsync(layout.Database, cancellationToken))
        {
            blobs++;
            bytes += size;
            switch (await VerifiedBlobCopy.CopyAsync(layout.Blobs, store, digest, size, cancellationToken))
            {
                case BlobCopyResult.Missing:
                    missing.Add(digest.ToString());
                    break;
                case BlobCopyResult.Corrupt:
                    corrupt.Add(digest.ToString());
                    break;
            }
        }

        foreach (var name in BackupLayout.ExtraFiles)
        {
            var file = Path.Combine(layout.Root, name);
            if (File.Exists(file))
            {
                File.Copy(file, Path.Combine(data, name), overwrite: true);
                PrivateFiles.Restrict(Path.Combine(data, name));
            }
        }

        await PlaceDatabaseAsync(layout.Database, target.DatabaseFile, cancellationToken);
        return new RestoreResult(data, store.Root, manifest.CreatedAt, manifest.ReadyVersions, blobs, bytes, missing, corrupt);
    }

    /// <summary>
    /// Copies the snapshot under a temporary name, drops the leases it recorded (the backup's own hold on garbage
    /// collection among them: nothing holds anything in a restored folder), and renames it into place.
    /// </summary>
    private static async Task PlaceDatabaseAsync(string snapshot, string database, CancellationToken cancellationToken)
    {
        var partial = database + ".partial";
        File.Copy(snapshot, partial, overwrite: true);
        PrivateFiles.Restrict(partial);
        await using (var connection = new SqliteConnection(BackupLayout.ConnectionString(partial, SqliteOpenMode.ReadWrite)))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM leases;";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var file = new FileStream(partial, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Flush(flushToDisk: true);
        }

        File.Move(partial, database, overwrite: true);
    }

    /// <summary>Refuses a folder that a running server holds (each server locks a <c>replica-&lt;n&gt;.lock</c> in it).</summary>
    private static void EnsureNoServer(string data)
    {
        if (!Directory.Exists(data))
        {
            return;
        }

        foreach (var slot in Directory.EnumerateFiles(data, "replica-*.lock"))
        {
            try
            {
                using var probe = new FileStream(slot, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e)
            {
                throw new BackupException($"A Berth server is running on {data}: stop it before restoring into that folder.", e);
            }
        }
    }

    /// <summary>What a folder holds already (nothing when it does not exist).</summary>
    private static IEnumerable<string> Occupied(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFileSystemEntries(folder).Where(e => !Path.GetFileName(e).StartsWith("replica-", StringComparison.Ordinal) || !e.EndsWith(".lock", StringComparison.Ordinal)) : [];
}
