using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Webhooks;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Server.Hosting.Secrets;

/// <summary>
/// Keeps the server's secrets from other local users and from whoever copies the database (docs/security.md,
/// "Secrets at rest"): the data folder is private (0700, files 0600; loosened modes are fixed at start-up with a
/// warning); webhook secrets are encrypted with the data-protection keys; those keys, in the database so that replicas
/// share them, are encrypted with a key file (or a certificate) that stays outside the database.
/// </summary>
internal sealed partial class SecretsAtRest(
    DataDirectory data,
    MetadataDatabase database,
    BlobStorage blobs,
    KeyFile keyFile,
    KeyRingProtection keyRing,
    WebhookSecrets webhookSecrets,
    ILogger<SecretsAtRest> logger)
{
    /// <summary>Registers data protection (keys in the database, encrypted at rest) and what start-up needs.</summary>
    /// <exception cref="StartupException">The certificate cannot be read.</exception>
    public static void Register(IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        var options = configuration.GetSection(KeyProtectionOptions.SectionName).Get<KeyProtectionOptions>() ?? new KeyProtectionOptions();
        services.AddOptions<KeyProtectionOptions>().BindConfiguration(KeyProtectionOptions.SectionName);
        var keyFile = new KeyFile(
            Path.GetFullPath(options.KeyFile is { Length: > 0 } path ? path : Path.Combine(dataDirectory, KeyProtectionOptions.DefaultKeyFileName)),
            options.Key is { Length: > 0 } inline ? inline : null);
        services.AddSingleton(keyFile);

        // Keys in the database with a fixed application name: every replica shares one key ring (the default name is
        // the content root, which differs between installations).
        var protection = services.AddDataProtection().SetApplicationName("berth").PersistKeysToDbContext<RegistryDbContext>();
        if (options.CertificateFile is { Length: > 0 } certificateFile)
        {
            var certificate = LoadCertificate(certificateFile, options.CertificatePassword);
            protection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }
        else
        {
            services.Configure<KeyManagementOptions>(o => o.XmlEncryptor = new KeyFileXmlEncryptor(keyFile));
        }

        services.AddSingleton<KeyRingProtection>();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<SecretsAtRest>();
    }

    /// <summary>Before the database is opened: the data folder private, loosened modes fixed, the SQLite file created private.</summary>
    public void SecureFiles()
    {
        PrivateFiles.CreateDirectory(data.Path);
        var result = DataFolderPermissions.Tighten(data.Path, blobs.Folder);
        if (result.Fixed.Count > 0)
        {
            LogTightened(logger, result.Fixed.Count, Show(result.Fixed));
        }

        if (result.Failed.Count > 0)
        {
            LogCouldNotTighten(logger, result.Failed.Count, Show(result.Failed));
        }

        // A key file of the operator's, elsewhere (a mounted secret, often read-only): told, not changed.
        if (!keyFile.IsInline && !OperatingSystem.IsWindows() && File.Exists(keyFile.Path)
            && !Path.GetFullPath(keyFile.Path).StartsWith(Path.GetFullPath(data.Path) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            && (File.GetUnixFileMode(keyFile.Path) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            LogKeyFileReadable(logger, keyFile.Path);
        }

        if (database.SqliteFile is { } file && !File.Exists(file) && !OperatingSystem.IsWindows())
        {
            // SQLite gives the WAL and shared-memory files the database file's mode: create it private first.
            try
            {
                using var _ = new FileStream(file, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write }.Private());
            }
            catch (IOException) when (File.Exists(file))
            {
                // Another process created it meanwhile.
            }
        }
    }

    /// <summary>
    /// After migrations, before the server serves: the key file loaded (or created) and checked against the keys,
    /// keys and webhook secrets an older Berth stored in plain text encrypted, and their old plain copies compacted away.
    /// </summary>
    /// <exception cref="StartupException">The keys need a key file or certificate this server does not have.</exception>
    public async Task ProtectAsync(RegistryDbContext db, CancellationToken cancellationToken)
    {
        var keys = await keyRing.PrepareAsync(db, cancellationToken);
        var secrets = await webhookSecrets.EncryptLegacySecretsAsync(db, cancellationToken);
        if (secrets > 0)
        {
            LogSecretsEncrypted(logger, secrets);
        }

        if (keys + secrets > 0)
        {
            // The plain text may survive in freed pages (and SQLite's WAL) until the tables are rewritten.
            await database.CompactSecretTablesAsync(db, cancellationToken);
        }
    }

    private string Show(IReadOnlyList<string> paths)
    {
        const int Shown = 20; // every top-level entry (they come first), then a count of the rest
        var names = paths.Take(Shown).Select(p => Path.GetRelativePath(data.Path, p) is var relative && !relative.StartsWith("..", StringComparison.Ordinal) ? relative : p);
        return string.Join(", ", names) + (paths.Count > Shown ? $" and {paths.Count - Shown} more" : "");
    }

    private static X509Certificate2 LoadCertificate(string path, string? password)
    {
        try
        {
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
            return certificate.HasPrivateKey ? certificate
                : throw new StartupException($"DataProtection:CertificateFile: '{path}' has no private key; the server needs it to decrypt the keys.");
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"DataProtection:CertificateFile: cannot read '{path}' as a PKCS#12 (.pfx) certificate with its private key: {e.Message}", e);
        }
    }

    [LoggerMessage(EventId = 1022, Level = LogLevel.Warning, Message = "Other local users could read {Count} of the server's files and folders; they are now private (folders 0700, files 0600): {Paths}")]
    private static partial void LogTightened(ILogger logger, int count, string paths);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Warning, Message = "Other local users can read {Count} of the server's files and folders, and the server may not change their modes: {Paths}. Make them private (chmod go-rwx)")]
    private static partial void LogCouldNotTighten(ILogger logger, int count, string paths);

    [LoggerMessage(EventId = 1025, Level = LogLevel.Warning, Message = "Every local user can read the key file {Path}, which decrypts the server's secrets; make it private (chmod 600, or defaultMode 0440 on a Kubernetes secret volume)")]
    private static partial void LogKeyFileReadable(ILogger logger, string path);

    [LoggerMessage(EventId = 1024, Level = LogLevel.Warning, Message = "Encrypted {Count} webhook secrets that were stored in plain text")]
    private static partial void LogSecretsEncrypted(ILogger logger, int count);
}
