using System.Runtime.CompilerServices;
using Berth.Core.Data;
using Berth.Data.Postgres;
using Berth.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Testing;

/// <summary>
/// Gives <see cref="TestDatabase"/> the server's own migrations, so the databases of a test project's servers are
/// copies of one migrated template. A project that compiles this file references both data providers.
/// </summary>
internal static class TemplateMigrator
{
#pragma warning disable CA2255 // a test project's start-up, not a library's
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => TestDatabase.Migrator = MigrateAsync;

    private static async Task MigrateAsync(string connectionString, bool postgres, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        if (postgres)
        {
            services.AddPostgresRegistry(connectionString);
        }
        else
        {
            services.AddSqliteRegistry(connectionString, durableCommits: false);
        }

        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        if (postgres)
        {
            await db.MigratePostgresAsync(cancellationToken);
        }
        else
        {
            await db.MigrateSqliteAsync(cancellationToken);
        }
    }
}
