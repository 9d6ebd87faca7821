using Berth.Core.Data;
using Berth.Data.Postgres;
using Berth.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Core.Tests.Data;

/// <summary>Each provider's migrations describe the whole model (checked without a database: no connection is opened).</summary>
public sealed class PendingModelChangesTests
{
    [Theory]
    [InlineData("src/Berth.Data.Sqlite")]
    [InlineData("src/Berth.Data.Postgres")]
    public void TheModelHasNoChangesMissingFromTheMigrations(string project)
    {
        var services = new ServiceCollection();
        if (project.EndsWith("Postgres", StringComparison.Ordinal))
        {
            services.AddPostgresRegistry("Host=localhost;Database=berth_model_only");
        }
        else
        {
            services.AddSqliteRegistry("Data Source=:memory:");
        }

        using var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        Assert.False(db.Database.HasPendingModelChanges(), $"Run 'dotnet ef migrations add <Name> --project {project}'.");
    }
}
