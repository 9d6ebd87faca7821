using Berth.Core.Auth;
using Berth.Core.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Server.Hosting;

/// <summary>
/// Runs before the server starts (and so before it accepts requests): checks that the blob store answers, applies migrations, and on first start creates the
/// administrator and writes its token to <c>&lt;data&gt;/admin-token</c> (mode 0600), printing it once.
/// </summary>
internal sealed partial class StartupTasks(IServiceScopeFactory scopes, IServiceProvider services, DataDirectory data, MetadataDatabase database, BlobStorage blobs, ILogger<StartupTasks> logger)
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        await blobs.CheckAsync(services, cancellationToken);
        await database.MigrateAsync(db, cancellationToken);
        LogDatabase(logger, database.Description);
        LogBlobs(logger, blobs.Description);

        var secret = await scope.ServiceProvider.GetRequiredService<Bootstrapper>().EnsureAdministratorAsync(cancellationToken);
        if (secret is null)
        {
            return;
        }

        var path = Path.Combine(data.Path, ServerSettings.AdminTokenFile);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var file = new FileStream(path, options))
        await using (var writer = new StreamWriter(file))
        {
            await writer.WriteLineAsync(secret);
        }

        // Printed to the console directly, never through the logger: logs must not contain tokens.
        Console.Out.WriteLine($"""

            Berth is set up. The administrator's API token (shown once; also saved to {path}):

                {secret}

            Log in with:  berth login <server url> --token {secret}

            """);
        LogBootstrapped(logger, path);
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Metadata database: {Database}")]
    private static partial void LogDatabase(ILogger logger, string database);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Blob store: {Store}")]
    private static partial void LogBlobs(ILogger logger, string store);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "First start: created the administrator; its token was written to {Path}")]
    private static partial void LogBootstrapped(ILogger logger, string path);
}
