using Berth.Core.Data;
using Berth.Data.Postgres;
using Berth.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Core.Tests.Data;

/// <summary>The metadata store on the <see cref="TestDatabase"/> of the run: SQLite, or PostgreSQL.</summary>
internal static class TestRegistry
{
    public static IServiceCollection AddTestRegistry(this IServiceCollection services, TestDatabase database, string dataDirectory) =>
        TestDatabase.IsPostgres
            ? services.AddPostgresRegistry(database.ConnectionString)
            : services.AddSqliteRegistry(SqliteRegistryExtensions.ConnectionStringFor(dataDirectory), durableCommits: false);

    public static async Task MigrateTestRegistryAsync(this RegistryDbContext db, CancellationToken cancellationToken)
    {
        if (TestDatabase.IsPostgres)
        {
            await db.MigratePostgresAsync(cancellationToken);
        }
        else
        {
            await db.MigrateSqliteAsync(cancellationToken);
        }
    }
}
