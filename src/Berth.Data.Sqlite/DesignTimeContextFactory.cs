using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Berth.Data.Sqlite;

/// <summary>Used by 'dotnet ef migrations add' only.</summary>
internal sealed class DesignTimeContextFactory : IDesignTimeDbContextFactory<RegistryDbContext>
{
    public RegistryDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<RegistryDbContext>()
            .UseRegistrySqlite("Data Source=design-time.db", new SqlitePragmas("FULL"))
            .Options;
        return new RegistryDbContext(options);
    }
}
