using System.Xml.Linq;
using Berth.Core.Data;
using Berth.Core.Diagnostics;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Server.Hosting.Secrets;

/// <summary>
/// At start-up, before anything uses the data-protection keys: loads the key file (creating it on a first start, when
/// no key in the database needs another one), encrypts the keys an older Berth stored in plain text, and checks that
/// this server can decrypt every key, so a replica given the wrong key file (or none) stops at once with the reason
/// instead of failing to sign webhooks later.
/// </summary>
internal sealed partial class KeyRingProtection(
    KeyFile keyFile,
    IOptions<KeyProtectionOptions> options,
    IOptions<KeyManagementOptions> management,
    IKeyManager keys,
    ILogger<KeyRingProtection> logger)
{
    private static readonly XNamespace DataProtectionNamespace = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName RequiresEncryption = DataProtectionNamespace + "requiresEncryption";
    private static readonly XName EncryptedSecret = DataProtectionNamespace + "encryptedSecret";

    /// <summary>Returns how many keys were stored in plain text and are now encrypted.</summary>
    /// <exception cref="StartupException">The key file is missing, unreadable or not the one the keys need, or a key cannot be decrypted.</exception>
    public async Task<int> PrepareAsync(RegistryDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.DataProtectionKeys.ToListAsync(cancellationToken);
        var documents = rows.Where(r => r.Xml is not null).Select(r => (Row: r, Xml: XElement.Parse(r.Xml!))).ToList();
        var needed = documents.SelectMany(d => d.Xml.Descendants(KeyFileXmlEncryptor.ElementName))
            .Select(e => e.Attribute(KeyFileXmlEncryptor.KeyFileAttribute)?.Value).Distinct().ToList();

        if (keyFile.Exists)
        {
            await keyFile.LoadAsync(cancellationToken);
        }
        else if (needed.Count > 0)
        {
            throw new StartupException(
                $"{KeyFile.Setting}: '{keyFile.Path}' does not exist, but the data-protection keys in the database are encrypted with key file " +
                $"{string.Join(", ", needed)}. Give this server the key file of the other replicas (or of its first start); without it, it cannot " +
                "sign webhooks. See docs/security.md#secrets-at-rest.");
        }

        // Before anything is written: every key must be readable with what this server was given.
        var unreadable = new List<string>();
        foreach (var key in keys.GetAllKeys())
        {
            try
            {
                _ = key.Descriptor;
            }
            catch (Exception e)
            {
                unreadable.Add($"key {key.KeyId}: {ExceptionMessages.Chain(e)}");
            }
        }

        if (unreadable.Count > 0)
        {
            throw new StartupException(
                $"This server cannot decrypt {unreadable.Count} of the data-protection keys in the database ({string.Join("; ", unreadable)}). " +
                $"Give it the key file ({KeyFile.Setting} or {KeyFile.InlineSetting}) or certificate (DataProtection:CertificateFile) the keys were encrypted with. " +
                "See docs/security.md#secrets-at-rest.");
        }

        if (!keyFile.IsLoaded && options.Value.CertificateFile is null)
        {
            await keyFile.CreateAsync(cancellationToken);
            LogKeyFileCreated(logger, keyFile.Path, keyFile.Id!);
        }

        var encryptor = management.Value.XmlEncryptor ?? throw new InvalidOperationException("No XML encryptor is configured for the data-protection keys.");
        var encrypted = 0;
        foreach (var (row, xml) in documents)
        {
            if (EncryptIfNecessary(encryptor, xml) is { } rewritten)
            {
                row.Xml = rewritten.ToString(SaveOptions.DisableFormatting);
                encrypted++;
            }
        }

        if (encrypted > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            LogKeysEncrypted(logger, encrypted);
        }

        return encrypted;
    }

    /// <summary>
    /// What the data-protection system does before storing a key: every element marked <c>requiresEncryption</c> is
    /// replaced by <c>&lt;encryptedSecret decryptorType="…"&gt;</c> holding the encryptor's output. Null when nothing needs it.
    /// </summary>
    internal static XElement? EncryptIfNecessary(Microsoft.AspNetCore.DataProtection.XmlEncryption.IXmlEncryptor encryptor, XElement key)
    {
        var plain = key.DescendantsAndSelf().Where(e => (string?)e.Attribute(RequiresEncryption) == "true").ToList();
        if (plain.Count == 0)
        {
            return null;
        }

        var copy = new XElement(key);
        foreach (var element in copy.DescendantsAndSelf().Where(e => (string?)e.Attribute(RequiresEncryption) == "true").ToList())
        {
            var info = encryptor.Encrypt(new XElement(element));
            element.ReplaceWith(new XElement(EncryptedSecret, new XAttribute("decryptorType", info.DecryptorType.AssemblyQualifiedName!), info.EncryptedElement));
        }

        return copy;
    }

    [LoggerMessage(EventId = 1020, Level = LogLevel.Warning, Message = "Created the key file {Path} (id {KeyFileId}), which encrypts the data-protection keys in the database; back it up, and give every replica the same file")]
    private static partial void LogKeyFileCreated(ILogger logger, string path, string keyFileId);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "Encrypted {Count} data-protection keys that were stored in plain text")]
    private static partial void LogKeysEncrypted(ILogger logger, int count);
}
