using Berth.Core.Data;
using Berth.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Core.Tests.Data;

public sealed class SqliteMigrationsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"berth-migrations-{Guid.NewGuid():N}");

    [Fact]
    public async Task MigrationsApplyToAnEmptyDatabaseAndAgainWithoutChanges()
    {
        await using var provider = Services();
        await using (var scope = provider.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            await db.MigrateSqliteAsync(TestContext.Current.CancellationToken);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
            Assert.Equal(0, await db.Versions.CountAsync(TestContext.Current.CancellationToken));
        }

        await using (var scope = provider.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            await db.MigrateSqliteAsync(TestContext.Current.CancellationToken);
            var mode = await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToListAsync(TestContext.Current.CancellationToken);
            Assert.Equal("wal", Assert.Single(mode));
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private ServiceProvider Services()
    {
        Directory.CreateDirectory(_folder);
        return new ServiceCollection().AddSqliteRegistry(SqliteRegistryExtensions.ConnectionStringFor(_folder)).BuildServiceProvider();
    }
}
