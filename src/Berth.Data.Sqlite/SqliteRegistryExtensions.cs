using Berth.Core.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Data.Sqlite;

public static class SqliteRegistryExtensions
{
    /// <summary>The connection string for the registry database inside a data folder.</summary>
    public static string ConnectionStringFor(string dataDirectory) => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(Path.GetFullPath(dataDirectory), "berth.db"),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>Registers the metadata store on SQLite (WAL mode; migrations from this assembly).</summary>
    public static IServiceCollection AddSqliteRegistry(this IServiceCollection services, string connectionString, bool durableCommits = true)
    {
        services.AddSingleton<IDatabaseErrors, SqliteDatabaseErrors>();
        services.AddSingleton<ISqlDialect, SqliteDialect>();
        var pragmas = new SqlitePragmas(durableCommits ? "FULL" : "NORMAL");
        // Pooled: a request reuses a context instead of building one (measurably faster on hot paths).
        services.AddDbContextPool<RegistryDbContext>(options => options.UseRegistrySqlite(connectionString, pragmas), poolSize: 256);
        return services;
    }

    internal static DbContextOptionsBuilder UseRegistrySqlite(this DbContextOptionsBuilder options, string connectionString, IInterceptor pragmas) =>
        options
            .UseSqlite(connectionString, sqlite => sqlite
                .MigrationsAssembly(typeof(SqliteRegistryExtensions).Assembly.GetName().Name)
                .UseParameterizedCollectionMode(RegistryQueryDefaults.Collections))
            .AddInterceptors(pragmas)
            .AddInterceptors(RegistryInterceptors.Create())
            // SQLite rebuilds a table to drop a column; the rebuild runs in the migration's transaction, only
            // the foreign-key pragma around it cannot. Nothing to act on, so not worth a warning at every start.
            .ConfigureWarnings(w => w.Ignore(RelationalEventId.NonTransactionalMigrationOperationWarning));

    /// <summary>Applies migrations and switches the database to write-ahead logging.</summary>
    public static async Task MigrateSqliteAsync(this RegistryDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.MigrateAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", cancellationToken);
    }
}
