using System.Security.Cryptography;
using System.Text;

namespace Berth.Core.Auth;

/// <summary>
/// API token secrets: <c>berth_</c> followed by 48 base32 characters (240 random bits). Stored only as
/// SHA-256: the secret has full entropy, so a slow password hash would add nothing but latency.
/// </summary>
public static class TokenSecret
{
    public const string Prefix = "berth_";
    private const int RandomLength = 48;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string Generate()
    {
        Span<byte> random = stackalloc byte[RandomLength];
        RandomNumberGenerator.Fill(random);
        var builder = new StringBuilder(Prefix.Length + RandomLength).Append(Prefix);
        foreach (var b in random)
        {
            builder.Append(Alphabet[b & 31]);
        }

        return builder.ToString();
    }

    public static bool IsWellFormed(string token)
    {
        if (token.Length != Prefix.Length + RandomLength || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in token.AsSpan(Prefix.Length))
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '2' and <= '7')))
            {
                return false;
            }
        }

        return true;
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The visible part shown in listings, e.g. <c>berth_k3j9</c>.</summary>
    public static string DisplayPrefix(string token) => token[..(Prefix.Length + 6)];
}
