using Berth.Core.Blobs;
using Berth.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace Berth.Server.Backup;

/// <summary>
/// The data folder, database and blob folder of a server, read the way <c>berth serve</c> reads its settings (the
/// options given here, <c>BERTH_…</c> variables, <c>&lt;data&gt;/berth.json</c>), so that <c>berth backup</c> finds what
/// the server uses. Only the embedded default qualifies: SQLite in the data folder and blobs in a local folder.
/// </summary>
internal sealed record DataFolderSource(string DataDirectory, string DatabaseFile, string ConnectionString, BlobPaths Blobs)
{
    /// <param name="args">Server switches (<c>--data</c>, <c>--blobs</c>, <c>--db</c>) as <c>berth serve</c> takes them.</param>
    /// <exception cref="BackupException">The server does not run on SQLite and a local folder, or has no database yet.</exception>
    public static DataFolderSource Resolve(string[] args)
    {
        var switches = ServerSettings.SwitchMappings.ToDictionary();
        var first = new ConfigurationBuilder()
            .AddEnvironmentVariables(ServerSettings.EnvironmentPrefix)
            .AddCommandLine(args, switches)
            .Build();
        var data = Path.GetFullPath(first[ServerSettings.DataKey] is { Length: > 0 } d ? d : ServerSettings.DefaultData);
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(data, "berth.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables(ServerSettings.EnvironmentPrefix)
            .AddCommandLine(args, switches)
            .Build();

        MetadataDatabase database;
        BlobStorage blobs;
        try
        {
            database = MetadataDatabase.FromConfiguration(configuration, data);
            blobs = BlobStorage.FromConfiguration(configuration, data);
        }
        catch (StartupException e)
        {
            throw new BackupException(e.Message, e);
        }

        if (database.IsPostgres)
        {
            throw new BackupException("This server's database is PostgreSQL (--db, BERTH_DB): back it up with pg_dump or continuous archiving, " +
                "and its blobs with bucket versioning (docs/deploy.md, \"Backup and restore\"). 'berth backup' is for the embedded default: SQLite and a local folder.");
        }

        if (blobs.Folder is not { } folder)
        {
            throw new BackupException("This server's blobs are in S3 (--blobs, BERTH_BLOBS): keep them with bucket versioning (docs/deploy.md, \"Backup and restore\"). " +
                "'berth backup' is for the embedded default: SQLite and a local folder.");
        }

        var file = Path.Combine(data, BackupLayout.DatabaseFile);
        return new DataFolderSource(data, file, BackupLayout.ConnectionString(file, Microsoft.Data.Sqlite.SqliteOpenMode.ReadWrite), new BlobPaths(folder));
    }
}
