using Berth.Core.Auth;
using Berth.Core.Data;
using Berth.Server.Hosting.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Server.Hosting;

/// <summary>
/// Runs before the server starts (and so before it accepts requests): checks that the blob store answers, applies migrations, and on first start creates the
/// administrator. Its token is the operator's (<see cref="BootstrapOptions"/>), or else a random one written to
/// <c>&lt;data&gt;/admin-token</c> (mode 0600), and a one-time password for the web UI in <c>&lt;data&gt;/admin-password</c>
/// (mode 0600); <see cref="BerthServer"/> prints their paths (never the secrets) once it listens.
/// </summary>
internal sealed partial class StartupTasks(IServiceScopeFactory scopes, IServiceProvider services, IOptions<BootstrapOptions> bootstrap, DataDirectory data, MetadataDatabase database, BlobStorage blobs, ILogger<StartupTasks> logger)
{
    /// <returns>On the first start, the files holding the administrator's secrets; else null.</returns>
    public async Task<FirstStart?> StartAsync(CancellationToken cancellationToken)
    {
        var configured = await ReadConfiguredTokenAsync(cancellationToken);
        var secrets = services.GetRequiredService<SecretsAtRest>();
        secrets.SecureFiles();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        await blobs.CheckAsync(services, cancellationToken);
        await database.MigrateAsync(db, cancellationToken);
        await secrets.ProtectAsync(db, cancellationToken);
        LogDatabase(logger, database.Description);
        LogBlobs(logger, blobs.Description);

        var first = await scope.ServiceProvider.GetRequiredService<Bootstrapper>().EnsureAdministratorAsync(configured, cancellationToken);
        if (first is null)
        {
            return null;
        }

        // The web UI's one-time password, like the token, is never printed or logged: the banner names its file.
        var passwordPath = Path.Combine(data.Path, ServerSettings.AdminPasswordFile);
        await WriteSecretFileAsync(passwordPath, first.Password, cancellationToken);
        if (configured is not null)
        {
            LogBootstrappedWithConfiguredToken(logger);
            return new FirstStart(null, passwordPath);
        }

        var path = Path.Combine(data.Path, ServerSettings.AdminTokenFile);
        await WriteSecretFileAsync(path, first.Token, cancellationToken);
        LogBootstrapped(logger, path);
        return new FirstStart(path, passwordPath);
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

/// <summary>The first start's secret files: the administrator's token (null when the operator gave it) and one-time password.</summary>
internal sealed record FirstStart(string? TokenFile, string PasswordFile);
