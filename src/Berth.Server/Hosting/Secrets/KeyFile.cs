using System.Security.Cryptography;
using System.Text;
using Berth.Core.Common;

namespace Berth.Server.Hosting.Secrets;

/// <summary>
/// The key-encryption key that encrypts the data-protection keys in the database (AES-256-GCM): 32 random bytes, kept
/// in base64 in a file only the server's user may read (or given inline, <c>DataProtection:Key</c>). Loaded (or
/// created) at start-up by <see cref="KeyRingProtection"/>; its <see cref="Id"/> (a fingerprint) is written beside every
/// key it encrypts, so a server given another key is told exactly that.
/// </summary>
public sealed class KeyFile(string path, string? inline = null)
{
    internal const string Setting = "DataProtection:KeyFile (BERTH_DataProtection__KeyFile)";
    internal const string InlineSetting = "DataProtection:Key (BERTH_DataProtection__Key)";

    private const int KeyLength = 32;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private static readonly byte[] AssociatedData = Encoding.ASCII.GetBytes("berth-data-protection-key-v1");
    private byte[]? _key;

    /// <summary>The file; ignored when the key is given inline.</summary>
    public string Path { get; } = path;

    /// <summary>True when the key is a setting's value, not a file.</summary>
    public bool IsInline => inline is not null;

    /// <summary>Whether there is a key to load: the setting, or the file.</summary>
    public bool Exists => IsInline || File.Exists(Path);

    /// <summary>For messages: the file's path or the setting's name.</summary>
    public string Description => IsInline ? InlineSetting : Path;

    /// <summary>The first 8 bytes of the key's SHA-256, in hex; null until loaded.</summary>
    public string? Id { get; private set; }

    public bool IsLoaded => _key is not null;

    /// <summary>Reads the file.</summary>
    /// <exception cref="StartupException">The file cannot be read or does not hold a key.</exception>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = (inline ?? await File.ReadAllTextAsync(Path, cancellationToken)).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"{Setting}: cannot read '{Path}': {e.Message}", e);
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            key = [];
        }

        if (key.Length != KeyLength)
        {
            throw new StartupException(IsInline
                ? $"{InlineSetting} is not a key: it must be {KeyLength} random bytes in base64, e.g. from: head -c {KeyLength} /dev/urandom | base64"
                : $"{Setting}: '{Path}' is not a key file: it must hold {KeyLength} random bytes in base64, e.g. from: head -c {KeyLength} /dev/urandom | base64 > {Path}");
        }

        Use(key);
    }

    /// <summary>Creates the file with a new random key, readable only by the server's user.</summary>
    /// <exception cref="StartupException">The file cannot be written.</exception>
    public async Task CreateAsync(CancellationToken cancellationToken)
    {
        var key = RandomNumberGenerator.GetBytes(KeyLength);
        try
        {
            if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } folder)
            {
                PrivateFiles.CreateDirectory(folder);
            }

            await using var file = new FileStream(Path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write }.Private());
            await file.WriteAsync(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"), cancellationToken);
            file.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"{Setting}: cannot create '{Path}': {e.Message}", e);
        }

        Use(key);
    }

    /// <summary>The fingerprint of a key file's content, as <see cref="Id"/> would show it.</summary>
    public static string Fingerprint(ReadOnlySpan<byte> key) => Convert.ToHexStringLower(SHA256.HashData(key)[..8]);

    public byte[] Encrypt(byte[] plaintext)
    {
        var key = _key ?? throw NotLoaded();
        var sealedBox = new byte[NonceLength + plaintext.Length + TagLength];
        var nonce = sealedBox.AsSpan(0, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagLength);
        aes.Encrypt(nonce, plaintext, sealedBox.AsSpan(NonceLength, plaintext.Length), sealedBox.AsSpan(NonceLength + plaintext.Length), AssociatedData);
        return sealedBox;
    }

    /// <exception cref="CryptographicException">Not encrypted with this key, or modified.</exception>
    public byte[] Decrypt(byte[] sealedBox)
    {
        var key = _key ?? throw NotLoaded();
        if (sealedBox.Length < NonceLength + TagLength)
        {
            throw new CryptographicException("The encrypted key is truncated.");
        }

        var plaintext = new byte[sealedBox.Length - NonceLength - TagLength];
        using var aes = new AesGcm(key, TagLength);
        aes.Decrypt(sealedBox.AsSpan(0, NonceLength), sealedBox.AsSpan(NonceLength, plaintext.Length), sealedBox.AsSpan(NonceLength + plaintext.Length), plaintext, AssociatedData);
        return plaintext;
    }

    private void Use(byte[] key)
    {
        _key = key;
        Id = Fingerprint(key);
    }

    private CryptographicException NotLoaded() => new($"The key ({Description}) is not loaded: this server cannot encrypt or decrypt data-protection keys with it.");
}
