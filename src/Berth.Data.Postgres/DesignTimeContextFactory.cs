using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Berth.Data.Postgres;

/// <summary>Used by 'dotnet ef migrations add' only (it never connects).</summary>
internal sealed class DesignTimeContextFactory : IDesignTimeDbContextFactory<RegistryDbContext>
{
    public RegistryDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<RegistryDbContext>()
            .UseRegistryPostgres("Host=localhost;Database=berth_design_time")
            .Options;
        return new RegistryDbContext(options);
    }
}
