using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Berth.Data.Postgres;

public static class PostgresRegistryExtensions
{
    /// <summary>Registers the metadata store on PostgreSQL (migrations from this assembly).</summary>
    /// <param name="connectionString">An Npgsql connection string (<c>Host=…;Database=…;Username=…;Password=…</c>).</param>
    public static IServiceCollection AddPostgresRegistry(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton<IDatabaseErrors, PostgresDatabaseErrors>();
        services.AddSingleton<ISqlDialect, PostgresDialect>();
        // Pooled: a request reuses a context instead of building one (measurably faster on hot paths).
        services.AddDbContextPool<RegistryDbContext>(options => options.UseRegistryPostgres(connectionString), poolSize: 256);
        return services;
    }

    internal static DbContextOptionsBuilder UseRegistryPostgres(this DbContextOptionsBuilder options, string connectionString) =>
        options
            .UseNpgsql(connectionString, npgsql => npgsql
                .MigrationsAssembly(typeof(PostgresRegistryExtensions).Assembly.GetName().Name)
                .UseParameterizedCollectionMode(RegistryQueryDefaults.Collections))
            .ReplaceService<IModelCustomizer, PostgresModelCustomizer>()
            .AddInterceptors(RegistryInterceptors.Create());

    /// <summary>Applies migrations.</summary>
    public static async Task MigratePostgresAsync(this RegistryDbContext db, CancellationToken cancellationToken) =>
        await db.Database.MigrateAsync(cancellationToken);

    /// <summary>
    /// Checks that <paramref name="connectionString"/> is a well-formed Npgsql connection string that names a
    /// server; returns why not, or null.
    /// </summary>
    public static string? Validate(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e) when (e.ParamName is { Length: > 0 } name && e.InnerException is { } cause)
        {
            // "Couldn't set foo" wraps the reason: an unknown keyword or a value of the wrong type.
            return cause is KeyNotFoundException ? $"unknown keyword '{name}'" : $"bad value for '{name}' ({cause.Message.TrimEnd('.')})";
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            return e.Message.TrimEnd('.');
        }

        return string.IsNullOrWhiteSpace(builder.Host) ? "it names no server (Host=…)" : null;
    }

    /// <summary>Where a connection string points, for messages: host, port and database, never the password.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}" + (builder.Database is { Length: > 0 } database ? $", database '{database}'" : "");
    }
}
