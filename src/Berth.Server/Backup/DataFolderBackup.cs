using Berth.Contracts.Naming;
using Berth.Core.Backup;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Gc;
using Berth.Core.Leases;
using Berth.Data.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;

namespace Berth.Server.Backup;

/// <summary>
/// <c>berth backup &lt;dir&gt;</c>: a consistent online backup of the embedded default (SQLite and a local blob folder),
/// taken on the machine that holds the data folder, while the server runs or not.
/// <list type="number">
/// <item>Claims the garbage collector's lease (<c>gc</c>, in the database every replica of this folder shares), waiting
/// for a collection in progress to finish: while the backup holds it no collection deletes a blob, so every blob the
/// snapshot records stays in the store until it is copied.</item>
/// <item>Snapshots the database with SQLite's online backup API: one read transaction, so the copy is the database at
/// one instant, while the server goes on writing (in WAL mode readers never block writers).</item>
/// <item>Copies the blobs the snapshot records that the backup does not hold yet (a second backup copies only new
/// ones), hashing each copy against its digest.</item>
/// <item>Puts the snapshot in place (an atomic rename), then removes the blobs it no longer records.</item>
/// </list>
/// An interrupted backup leaves the previous one whole. A blob missing or corrupt in the store is reported and left out
/// (a copy the backup already held is kept).
/// </summary>
public static class DataFolderBackup
{
    private const string LockFile = "backup.lock";

    /// <param name="directory">The backup folder: new, empty, or an earlier backup (made incrementally up to date).</param>
    /// <param name="serverArgs">The server's <c>--data</c>, <c>--blobs</c> and <c>--db</c>, as <c>berth serve</c> takes them.</param>
    /// <param name="leaseWait">How long to wait for a garbage collection in progress to finish.</param>
    /// <exception cref="BackupException">The backup cannot be taken; the message says why.</exception>
    public static async Task<BackupResult> RunAsync(string directory, string[] serverArgs, TimeSpan leaseWait, ILogger? logger, CancellationToken cancellationToken)
    {
        logger ??= NullLogger.Instance;
        var source = DataFolderSource.Resolve(serverArgs);
        if (!File.Exists(source.DatabaseFile))
        {
            throw new BackupException($"There is no Berth database in {source.DataDirectory} ({BackupLayout.DatabaseFile}): is --data the server's data folder?");
        }

        var layout = new BackupLayout(directory);
        if (IsInside(layout.Root, source.DataDirectory) || IsInside(layout.Root, source.Blobs.Root) || IsInside(source.DataDirectory, layout.Root))
        {
            throw new BackupException($"The backup folder {layout.Root} and the data folder {source.DataDirectory} (blobs in {source.Blobs.Root}) must not contain each other.");
        }

        PrivateFiles.CreateDirectory(layout.Root);
        await using var writing = OpenLock(Path.Combine(layout.Root, LockFile), $"Another 'berth backup' is writing to {layout.Root} right now.");
        if (await layout.ReadManifestAsync(cancellationToken) is null &&
            Directory.EnumerateFileSystemEntries(layout.Root).Any(e => !string.Equals(Path.GetFileName(e), LockFile, StringComparison.Ordinal)))
        {
            throw new BackupException($"{layout.Root} is neither empty nor a Berth backup: choose an empty or new folder, or one an earlier 'berth backup' wrote.");
        }

        await using var services = new ServiceCollection().AddLogging().AddSqliteRegistry(source.ConnectionString).BuildServiceProvider();
        await using var lease = await HoldCollectorAsync(services, leaseWait, logger, cancellationToken);
        using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
        var ct = running.Token;
        try
        {
            var createdAt = DateTimeOffset.UtcNow;
            var partial = layout.Database + ".partial";
            await SnapshotAsync(source.DatabaseFile, partial, ct);

            var result = new BackupTally();
            await foreach (var (digest, size) in BackupLayout.ReadBlobsAsync(partial, ct))
            {
                result.Blobs++;
                result.Bytes += size;
                switch (await VerifiedBlobCopy.CopyAsync(source.Blobs, layout.Blobs, digest, size, ct))
                {
                    case BlobCopyResult.Copied:
                        result.CopiedBlobs++;
                        result.CopiedBytes += size;
                        break;
                    case BlobCopyResult.Missing:
                        result.Missing.Add(digest.ToString());
                        break;
                    case BlobCopyResult.Corrupt:
                        result.Corrupt.Add(digest.ToString());
                        break;
                }
            }

            var versions = await BackupLayout.CountReadyVersionsAsync(partial, ct);
            File.Move(partial, layout.Database, overwrite: true);
            PrivateFiles.Restrict(layout.Database);
            await layout.WriteManifestAsync(new BackupManifest(createdAt, source.DataDirectory, versions, result.Blobs, result.Bytes), ct);
            foreach (var name in BackupLayout.ExtraFiles)
            {
                var file = Path.Combine(source.DataDirectory, name);
                if (File.Exists(file))
                {
                    File.Copy(file, Path.Combine(layout.Root, name), overwrite: true);
                    PrivateFiles.Restrict(Path.Combine(layout.Root, name));
                }
            }

            var pruned = await PruneAsync(layout, ct);
            return new BackupResult(layout.Root, createdAt, versions, result.Blobs, result.Bytes, result.CopiedBlobs, result.CopiedBytes, pruned, result.Missing, result.Corrupt);
        }
        catch (OperationCanceledException) when (lease.IsLost && !cancellationToken.IsCancellationRequested)
        {
            throw new BackupException("The backup stopped: it could not keep its hold on garbage collection (the database did not answer in time). The previous backup is unchanged; run it again.");
        }
    }

    /// <summary>
    /// Claims the <c>gc</c> lease, waiting up to <paramref name="wait"/> for a collection in progress to finish. The
    /// snapshot records this claim too; restoring clears it.
    /// </summary>
    private static async Task<HeldLease> HoldCollectorAsync(IServiceProvider services, TimeSpan wait, ILogger logger, CancellationToken cancellationToken)
    {
        var owner = "backup-" + Guid.NewGuid().ToString("N")[..16];
        var deadline = DateTime.UtcNow + wait;
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        while (true)
        {
            var now = DateTime.UtcNow;
            try
            {
                if (await LeaseClaim.TryClaimAsync(db, GarbageCollector.LeaseName, owner, now, now + GarbageCollector.LeaseTime, cancellationToken))
                {
                    return new HeldLease(GarbageCollector.LeaseName, owner, now + GarbageCollector.LeaseTime, GarbageCollector.LeaseTime,
                        services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, logger);
                }
            }
            catch (SqliteException e)
            {
                throw new BackupException($"Cannot use the database {db.Database.GetDbConnection().DataSource}: {e.Message}", e);
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new BackupException($"Garbage collection has been running for longer than {wait.TotalMinutes:0} minutes; run the backup again when it has finished.");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>
    /// SQLite's online backup of the live database into <paramref name="target"/>, made a self-contained file. The copy
    /// runs in one step (one read transaction); should SQLite find the database locked at that moment (a checkpoint
    /// restarting the log), it is tried again.
    /// </summary>
    private static async Task SnapshotAsync(string database, string target, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await SnapshotOnceAsync(database, target, cancellationToken);
                return;
            }
            catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6 && attempt < 20)
            {
                // SQLITE_BUSY or SQLITE_LOCKED.
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            }
        }
    }

    private static async Task SnapshotOnceAsync(string database, string target, CancellationToken cancellationToken)
    {
        File.Delete(target);
        await Task.Run(() =>
        {
            using (var from = new SqliteConnection(BackupLayout.ConnectionString(database, SqliteOpenMode.ReadWrite)))
            using (var to = new SqliteConnection(BackupLayout.ConnectionString(target, SqliteOpenMode.ReadWriteCreate)))
            {
                from.Open();
                Execute(from, "PRAGMA busy_timeout = 30000;");
                to.Open();
                from.BackupDatabase(to);
                Execute(to, "PRAGMA journal_mode = DELETE;");
                using var check = to.CreateCommand();
                check.CommandText = "PRAGMA quick_check;";
                if (check.ExecuteScalar() is not "ok")
                {
                    throw new BackupException("The database snapshot failed SQLite's integrity check; the previous backup is unchanged.");
                }
            }

            using var file = new FileStream(target, FileMode.Open, FileAccess.ReadWrite);
            file.Flush(flushToDisk: true);
        }, cancellationToken);
        PrivateFiles.Restrict(target);
    }

    /// <summary>Deletes the backup's blobs that its snapshot no longer records (and temporary files a crash left).</summary>
    private static async Task<int> PruneAsync(BackupLayout layout, CancellationToken cancellationToken)
    {
        var root = layout.Blobs.BlobsRoot;
        if (!Directory.Exists(root))
        {
            return 0;
        }

        await using var snapshot = new SqliteConnection(BackupLayout.ConnectionString(layout.Database, SqliteOpenMode.ReadOnly));
        await snapshot.OpenAsync(cancellationToken);
        var pruned = 0;
        foreach (var file in new DirectoryInfo(root).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Digest.TryParse(Digest.Sha256Prefix + file.Name, out var digest) && await BackupLayout.RecordsAsync(snapshot, digest, cancellationToken))
            {
                continue;
            }

            file.Delete();
            pruned += file.Name.EndsWith(".partial", StringComparison.Ordinal) ? 0 : 1;
        }

        return pruned;
    }

    /// <summary>An exclusive lock on <paramref name="path"/> (released when disposed, or when the process dies).</summary>
    internal static FileStream OpenLock(string path, string busy)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e)
        {
            throw new BackupException(busy, e);
        }
    }

    private static bool IsInside(string path, string folder)
    {
        var relative = Path.GetRelativePath(folder, path);
        return relative == "." || (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative));
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class BackupTally
    {
        public int Blobs { get; set; }
        public long Bytes { get; set; }
        public int CopiedBlobs { get; set; }
        public long CopiedBytes { get; set; }
        public List<string> Missing { get; } = [];
        public List<string> Corrupt { get; } = [];
    }
}
