using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Berth.Contracts.Naming;

/// <summary>
/// A content digest in the form <c>sha256:&lt;64 lowercase hex&gt;</c>. The only digest algorithm Berth
/// accepts; anything else is rejected by <see cref="TryParse"/>, so a parsed digest is safe to use in
/// storage paths.
/// </summary>
public readonly record struct Digest
{
    public const string Sha256Prefix = "sha256:";
    private const int HexLength = 64;

    private Digest(string hex) => Hex = hex;

    /// <summary>The 64 lowercase hexadecimal characters of the SHA-256 value.</summary>
    public string Hex { get; }

    public static Digest Parse(string value) =>
        TryParse(value, out var digest)
            ? digest
            : throw new FormatException($"'{Truncate(value)}' is not a digest: expected sha256: followed by 64 lowercase hex characters.");

    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest)
    {
        digest = default;
        if (value is null || value.Length != Sha256Prefix.Length + HexLength ||
            !value.StartsWith(Sha256Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var hex = value.AsSpan(Sha256Prefix.Length);
        foreach (var c in hex)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        digest = new Digest(value[Sha256Prefix.Length..]);
        return true;
    }

    /// <summary>Builds a digest from raw SHA-256 bytes (32 of them).</summary>
    public static Digest FromHash(ReadOnlySpan<byte> sha256)
    {
        if (sha256.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("A SHA-256 hash is 32 bytes.", nameof(sha256));
        }

        return new Digest(Convert.ToHexStringLower(sha256));
    }

    public static Digest Compute(ReadOnlySpan<byte> data) => FromHash(SHA256.HashData(data));

    public bool IsDefault => Hex is null;

    public override string ToString() => Hex is null ? string.Empty : Sha256Prefix + Hex;

    private static string Truncate(string? value) =>
        value is null ? "(null)" : value.Length <= 80 ? value : value[..80] + "…";
}
