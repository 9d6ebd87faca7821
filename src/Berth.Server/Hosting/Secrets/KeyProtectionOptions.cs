namespace Berth.Server.Hosting.Secrets;

/// <summary>
/// How the server's data-protection keys (table <c>data_protection_keys</c>; they encrypt webhook secrets) are
/// themselves encrypted at rest (section <c>DataProtection</c>; <c>BERTH_DataProtection__…</c>), so that a copy of the
/// database alone reveals no secret. Documented in docs/security.md.
/// </summary>
public sealed class KeyProtectionOptions
{
    public const string SectionName = "DataProtection";

    /// <summary>The default key file, in the data folder.</summary>
    public const string DefaultKeyFileName = "data-protection.key";

    /// <summary>
    /// The key file: 32 random bytes in base64 (<c>head -c 32 /dev/urandom | base64</c>). Default
    /// <c>&lt;data&gt;/data-protection.key</c>, created (mode 0600) on a first start. Every replica needs the same file.
    /// </summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// The key itself, in base64, instead of a file (e.g. from an orchestrator's secret as
    /// <c>BERTH_DataProtection__Key</c>); wins over <see cref="KeyFile"/>.
    /// </summary>
    public string? Key { get; set; }

    /// <summary>
    /// A certificate (PKCS#12 / .pfx with its private key) to encrypt the keys with instead of the key file
    /// (<c>ProtectKeysWithCertificate</c>). Keys encrypted earlier with the key file still need it to be decrypted.
    /// </summary>
    public string? CertificateFile { get; set; }

    /// <summary>The password of <see cref="CertificateFile"/>, if it has one.</summary>
    public string? CertificatePassword { get; set; }
}
