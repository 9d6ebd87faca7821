using Berth.Core.Auth;
using Berth.Core.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Server.Hosting;

/// <summary>
/// Runs before the server starts (and so before it accepts requests): checks that the blob store answers, applies migrations, and on first start creates the
/// administrator. Its token is the operator's (<see cref="BootstrapOptions"/>), or else a random one written to
/// <c>&lt;data&gt;/admin-token</c> (mode 0600) and printed once.
/// </summary>
internal sealed partial class StartupTasks(IServiceScopeFactory scopes, IServiceProvider services, IOptions<BootstrapOptions> bootstrap, DataDirectory data, MetadataDatabase database, BlobStorage blobs, ILogger<StartupTasks> logger)
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configured = await ReadConfiguredTokenAsync(cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        await blobs.CheckAsync(services, cancellationToken);
        await database.MigrateAsync(db, cancellationToken);
        LogDatabase(logger, database.Description);
        LogBlobs(logger, blobs.Description);

        var first = await scope.ServiceProvider.GetRequiredService<Bootstrapper>().EnsureAdministratorAsync(configured, cancellationToken);
        if (first is null)
        {
            return;
        }

        // The one-time password of the web UI is never printed: the banner names its file.
        var passwordPath = Path.Combine(data.Path, ServerSettings.AdminPasswordFile);
        await WriteSecretFileAsync(passwordPath, first.Password, cancellationToken);
        if (configured is not null)
        {
            LogBootstrappedWithConfiguredToken(logger);
            Console.Out.WriteLine($"""

                Berth is set up. Sign in to the web UI as 'admin' with the one-time password in {passwordPath}
                (you choose a new password at the first sign-in).

                """);
            return;
        }

        var path = Path.Combine(data.Path, ServerSettings.AdminTokenFile);
        await WriteSecretFileAsync(path, first.Token, cancellationToken);

        // Printed to the console directly, never through the logger: logs must not contain tokens.
        Console.Out.WriteLine($"""

            Berth is set up. The administrator's API token (shown once; also saved to {path}):

                {first.Token}

            Log in with:  berth login <server url> --token {first.Token}

            Web UI: sign in as 'admin' with the one-time password in {passwordPath}
            (you choose a new password at the first sign-in).

            """);
        LogBootstrapped(logger, path);
    }

    /// <summary>Writes a secret to a file only its owner can read (mode 0600).</summary>
    private static async Task WriteSecretFileAsync(string path, string secret, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var file = new FileStream(path, options);
        await using var writer = new StreamWriter(file);
        await writer.WriteLineAsync(secret.AsMemory(), cancellationToken);
    }

    /// <summary>The operator's token for the administrator, if configured; a malformed one stops start-up naming the setting.</summary>
    private async Task<string?> ReadConfiguredTokenAsync(CancellationToken cancellationToken)
    {
        var file = bootstrap.Value.AdminTokenFile;
        var inline = bootstrap.Value.AdminToken;
        string setting;
        string token;
        if (!string.IsNullOrEmpty(file))
        {
            setting = "--admin-token-file";
            try
            {
                token = (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StartupException($"--admin-token-file: cannot read '{file}': {e.Message}", e);
            }
        }
        else if (!string.IsNullOrEmpty(inline))
        {
            setting = "Bootstrap:AdminToken (BERTH_Bootstrap__AdminToken)";
            token = inline.Trim();
        }
        else
        {
            return null;
        }

        return TokenSecret.IsWellFormed(token)
            ? token
            : throw new StartupException($"{setting}: the administrator's token must be '{TokenSecret.Prefix}' followed by 48 characters of a-z and 2-7, e.g. from: echo {TokenSecret.Prefix}$(head -c 30 /dev/urandom | base32 | tr A-Z a-z)");
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Metadata database: {Database}")]
    private static partial void LogDatabase(ILogger logger, string database);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Blob store: {Store}")]
    private static partial void LogBlobs(ILogger logger, string store);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "First start: created the administrator; its token was written to {Path}")]
    private static partial void LogBootstrapped(ILogger logger, string path);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "First start: created the administrator with the configured token")]
    private static partial void LogBootstrappedWithConfiguredToken(ILogger logger);
}
