using Berth.Core.Data;
using Berth.Data.Postgres;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Core.Tests.Data;

/// <summary>
/// The PostgreSQL model, checked without a server (applying the migrations is what every test server
/// does when the tests run on PostgreSQL).
/// </summary>
public sealed class PostgresModelTests
{
    [Fact]
    public void EveryTextColumnComparesAndSortsByBytes()
    {
        // Never connects: building the model needs no server.
        using var provider = new ServiceCollection().AddPostgresRegistry("Host=localhost;Database=berth_model_only").BuildServiceProvider();
        using var scope = provider.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var text = db.GetService<IDesignTimeModel>().Model.GetEntityTypes().SelectMany(e => e.GetProperties()).Where(p => p.GetProviderClrType() == typeof(string) || p.ClrType == typeof(string)).ToList();
        Assert.NotEmpty(text);
        Assert.All(text, p => Assert.Equal("C", p.GetCollation()));
    }
}
