using System.Security.Cryptography;

namespace Berth.Core.Runs;

/// <summary>Run ids: 12 characters of lowercase base 32 (<c>[a-z2-7]</c>), 60 random bits; short, URL-safe, unique.</summary>
public static class RunIds
{
    public const int Length = 12;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string New()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        var bits = BitConverter.ToUInt64(bytes);
        Span<char> chars = stackalloc char[Length];
        for (var i = 0; i < Length; i++)
        {
            chars[i] = Alphabet[(int)(bits & 31)];
            bits >>= 5;
        }

        return new string(chars);
    }

    /// <summary>Whether <paramref name="id"/> could be a run id (checked before any lookup).</summary>
    public static bool IsWellFormed(string? id) =>
        id is { Length: Length } && id.All(c => c is (>= 'a' and <= 'z') or (>= '2' and <= '7'));
}
