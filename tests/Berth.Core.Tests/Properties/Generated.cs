using System.Text;
using CsCheck;

namespace Berth.Core.Tests.Properties;

/// <summary>
/// Generators and settings the property tests share. Each property runs thousands of generated inputs; a failure is
/// shrunk to a small example and printed with the seed that reproduces it (set the environment variable
/// <c>CsCheck_Seed</c> to it).
/// </summary>
internal static class Generated
{
    /// <summary>Inputs per property: enough to find the edge cases, bounded for a loaded CI machine.</summary>
    public const long Iterations = 5_000;

    /// <summary>Two threads at most: the suite shares its machine.</summary>
    public const int Threads = 2;

    /// <summary>A string of <paramref name="min"/>–<paramref name="max"/> characters taken from <paramref name="alphabet"/>.</summary>
    public static Gen<string> From(string alphabet, int min, int max) =>
        Gen.Char[alphabet].Array[min, max].Select(chars => new string(chars));

    /// <summary>Strings glued together from <paramref name="pieces"/>: cheap to shrink, and full of the interesting cases.</summary>
    public static Gen<string> Joined(string[] pieces, int min, int max) =>
        Gen.OneOf(pieces).Array[min, max].Select(parts => string.Concat(parts));

    /// <summary>Any UTF-16 text, lone surrogates and control characters included.</summary>
    public static readonly Gen<string> AnyText = Gen.Char.Array[0, 40].Select(chars => new string(chars));

    /// <summary>Text that looks like the thing under test more often than not: <paramref name="pieces"/> mixed with anything.</summary>
    public static Gen<string> Hostile(string[] pieces, int max = 8) =>
        Gen.Frequency((3, Joined([.. pieces, .. Oddities], 0, max)), (1, AnyText));

    /// <summary>Characters and fragments that break parsers: controls, separators, bidi overrides, surrogates, escapes.</summary>
    public static readonly string[] Oddities =
    [
        "\n", "\r", "\t", "\0", " ", "\u00A0", "\u202E", "\u200B", "\uFEFF", "\uD800", "\uDC00", "\uD83D\uDE00", "\u212A",
        "\u0130", "\u00E9", "e\u0301", "/", "\\", ":", "@", "%", "%2F", "..", ".", "-", "_", "+", "'", "\"", "`", "(", ")",
    ];

    /// <summary>The string with non-printable and non-ASCII characters written as \uXXXX, for assertion messages.</summary>
    public static string Show(string? text)
    {
        if (text is null)
        {
            return "(null)";
        }

        var builder = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            builder.Append(c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:X4}");
        }

        return builder.Append('"').ToString();
    }
}
