using System.Text.Json;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;
using Berth.Core.Common;
using Microsoft.Data.Sqlite;

namespace Berth.Server.Backup;

/// <summary>
/// The layout of a backup folder (<c>berth backup</c>), and reading the database snapshot in it:
/// <code>
/// &lt;dir&gt;/berth.db                      the SQLite snapshot: one self-contained file (no WAL)
/// &lt;dir&gt;/blobs/sha256/&lt;2 hex&gt;/&lt;hex&gt;   the blobs the snapshot records, laid out like the store
/// &lt;dir&gt;/backup.json                   format, time, source and counts of the snapshot
/// &lt;dir&gt;/berth.json, admin-token,      copies of the data folder's settings, bootstrap token and the key that
///   data-protection.key                 encrypts the data-protection keys, when it has them (a restored database is
///                                       unusable without that key)
/// </code>
/// Only the columns of <c>blobs</c> that every schema version has are read, so a newer Berth restores an older backup
/// (the server migrates the database when it starts).
/// </summary>
internal sealed class BackupLayout(string root)
{
    public const int Format = 1;
    public const string DatabaseFile = "berth.db";
    public const string ManifestFile = "backup.json";

    /// <summary>Files of a data folder that are copied beside the snapshot (settings, the bootstrap token, the key file).</summary>
    public static readonly IReadOnlyList<string> ExtraFiles = ["berth.json", Hosting.ServerSettings.AdminTokenFile, Hosting.Secrets.KeyProtectionOptions.DefaultKeyFileName];

    public string Root { get; } = Path.GetFullPath(root);

    public string Database => Path.Combine(Root, DatabaseFile);

    public string Manifest => Path.Combine(Root, ManifestFile);

    public BlobPaths Blobs => new(Root);

    /// <summary>A connection string for a snapshot file, without pooling (the file is renamed and deleted).</summary>
    public static string ConnectionString(string file, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = file,
        Mode = mode,
        Pooling = false,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>The blob rows of a snapshot (those not being garbage-collected), in digest order.</summary>
    public static async IAsyncEnumerable<(Digest Digest, long Size)> ReadBlobsAsync(string file, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(ConnectionString(file, SqliteOpenMode.ReadOnly));
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT digest, size FROM blobs WHERE deleting_at IS NULL ORDER BY digest";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (Digest.Parse(reader.GetString(0)), reader.GetInt64(1));
        }
    }

    /// <summary>Whether a snapshot records a blob (not being garbage-collected).</summary>
    public static async Task<bool> RecordsAsync(SqliteConnection snapshot, Digest digest, CancellationToken cancellationToken)
    {
        await using var command = snapshot.CreateCommand();
        command.CommandText = "SELECT 1 FROM blobs WHERE digest = $digest AND deleting_at IS NULL";
        command.Parameters.AddWithValue("$digest", digest.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>Ready versions in a snapshot.</summary>
    public static async Task<int> CountReadyVersionsAsync(string file, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(ConnectionString(file, SqliteOpenMode.ReadOnly));
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM versions WHERE state = 'ready'";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task WriteManifestAsync(BackupManifest manifest, CancellationToken cancellationToken)
    {
        var partial = Manifest + ".partial";
        await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await using var writer = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
            writer.WriteStartObject();
            writer.WriteNumber("format", Format);
            writer.WriteString("createdAt", manifest.CreatedAt);
            writer.WriteString("source", manifest.Source);
            writer.WriteNumber("readyVersions", manifest.ReadyVersions);
            writer.WriteNumber("blobs", manifest.Blobs);
            writer.WriteNumber("bytes", manifest.Bytes);
            writer.WriteEndObject();
            await writer.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(partial, Manifest, overwrite: true);
        PrivateFiles.Restrict(Manifest);
    }

    /// <summary>The manifest, or null when the folder holds no (complete) backup.</summary>
    /// <exception cref="BackupException">The manifest is of a format this Berth does not know.</exception>
    public async Task<BackupManifest?> ReadManifestAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Manifest))
        {
            return null;
        }

        await using var file = File.OpenRead(Manifest);
        using var json = await JsonDocument.ParseAsync(file, cancellationToken: cancellationToken);
        var root = json.RootElement;
        if (!root.TryGetProperty("format", out var format) || format.GetInt32() != Format)
        {
            throw new BackupException($"{Manifest} is of a backup format this version of Berth does not know (it reads format {Format}).");
        }

        return new BackupManifest(root.GetProperty("createdAt").GetDateTimeOffset(), root.GetProperty("source").GetString() ?? "",
            root.GetProperty("readyVersions").GetInt32(), root.GetProperty("blobs").GetInt32(), root.GetProperty("bytes").GetInt64());
    }
}

