using Berth.Core.Data;
using Berth.Data.Postgres;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Core.Tests.Data;

/// <summary>
/// The PostgreSQL model and its migrations, checked without a server (applying them is what every test
/// server does when the tests run on PostgreSQL).
/// </summary>
public sealed class PostgresMigrationsTests
{
    [Fact]
    public void TheModelHasNoChangesMissingFromTheMigrations()
    {
        using var provider = Services();
        using var scope = provider.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        Assert.False(db.Database.HasPendingModelChanges(), "Run 'dotnet ef migrations add <Name> --project src/Berth.Data.Postgres'.");
    }

    [Fact]
    public void EveryTextColumnComparesAndSortsByBytes()
    {
        using var provider = Services();
        using var scope = provider.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var text = db.GetService<IDesignTimeModel>().Model.GetEntityTypes().SelectMany(e => e.GetProperties()).Where(p => p.GetProviderClrType() == typeof(string) || p.ClrType == typeof(string)).ToList();
        Assert.NotEmpty(text);
        Assert.All(text, p => Assert.Equal("C", p.GetCollation()));
    }

    private static ServiceProvider Services() =>
        // Never connects: building the model and comparing it with the migrations needs no server.
        new ServiceCollection().AddPostgresRegistry("Host=localhost;Database=berth_model_only").BuildServiceProvider();
}
