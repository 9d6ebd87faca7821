using System.Data.Common;
using Berth.Core.Data;
using Berth.Core.Diagnostics;
using Berth.Data.Postgres;
using Berth.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Server.Hosting;

/// <summary>
/// The metadata store the server runs on, chosen once at start-up: PostgreSQL when <c>--db</c> (<c>BERTH_DB</c>)
/// holds an Npgsql connection string, otherwise SQLite in the data folder. The only place that knows the providers.
/// </summary>
internal sealed class MetadataDatabase
{
    private const string Setting = "--db";

    private MetadataDatabase(bool postgres, string connectionString)
    {
        IsPostgres = postgres;
        ConnectionString = connectionString;
    }

    public bool IsPostgres { get; }

    public string ConnectionString { get; }

    /// <summary>The SQLite database file; null on PostgreSQL.</summary>
    public string? SqliteFile => IsPostgres ? null : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource;

    /// <summary>For logs and messages: the engine and where it is, never a password.</summary>
    public string Description => IsPostgres
        ? $"PostgreSQL at {PostgresRegistryExtensions.Describe(ConnectionString)}"
        : $"SQLite ({new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource})";

    /// <exception cref="StartupException">The <c>--db</c> value is not a usable connection string.</exception>
    public static MetadataDatabase FromConfiguration(IConfiguration configuration, string dataDirectory)
    {
        if (configuration[ServerSettings.DbKey] is not { } value || string.IsNullOrWhiteSpace(value))
        {
            return new MetadataDatabase(postgres: false, SqliteRegistryExtensions.ConnectionStringFor(dataDirectory));
        }

        if (PostgresRegistryExtensions.Validate(value) is { } problem)
        {
            throw new StartupException(
                $"{Setting} (BERTH_DB) is not a valid PostgreSQL connection string: {problem}. " +
                "Expected the form \"Host=db.internal;Port=5432;Database=berth;Username=berth;Password=…\".");
        }

        return new MetadataDatabase(postgres: true, value);
    }

    public void Register(IServiceCollection services)
    {
        if (IsPostgres)
        {
            services.AddPostgresRegistry(ConnectionString);
        }
        else
        {
            services.AddSqliteRegistry(ConnectionString);
        }
    }

    /// <summary>
    /// Rewrites the tables that hold secrets (webhooks, data-protection keys) so that the old versions of changed rows
    /// are gone from the database's files: SQLite rebuilds the whole file (<c>VACUUM</c>) and empties its WAL;
    /// PostgreSQL rewrites the two tables (<c>VACUUM FULL</c>; its WAL archive and backups keep what they kept). Once,
    /// at the start-up that encrypted what an older Berth stored in plain text.
    /// </summary>
    public async Task CompactSecretTablesAsync(RegistryDbContext db, CancellationToken cancellationToken)
    {
        if (IsPostgres)
        {
            await db.Database.ExecuteSqlRawAsync("VACUUM FULL webhooks, data_protection_keys", cancellationToken);
            return;
        }

        await db.Database.ExecuteSqlRawAsync("VACUUM", cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE)", cancellationToken);
    }

    /// <summary>Brings the schema up to date.</summary>
    /// <exception cref="StartupException">PostgreSQL cannot be reached or refuses the connection.</exception>
    public async Task MigrateAsync(RegistryDbContext db, CancellationToken cancellationToken)
    {
        if (!IsPostgres)
        {
            await db.MigrateSqliteAsync(cancellationToken);
            return;
        }

        try
        {
            await db.MigratePostgresAsync(cancellationToken);
        }
        catch (DbException e)
        {
            throw new StartupException($"{Setting} (BERTH_DB): cannot use {Description}: {ExceptionMessages.Chain(e)}", e);
        }
    }
}
