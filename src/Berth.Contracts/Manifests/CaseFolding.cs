using System.Collections.Frozen;
using System.Text;

namespace Berth.Contracts.Manifests;

/// <summary>
/// Unicode full case folding (CaseFolding.txt, statuses C and F), the comparison case-insensitive file systems
/// come closest to: <c>ß</c> and <c>ss</c>, <c>ﬁ</c> and <c>fi</c> fold alike. .NET has no full folding, so the
/// characters that fold to more than one character come from <see cref="UnicodeTables"/>;
/// every other character folds as lower(upper(c)), which is at least as coarse as simple folding (it also puts
/// the dotless <c>ı</c> with <c>i</c>, as Windows does).
/// </summary>
internal static class CaseFolding
{
    private static readonly FrozenDictionary<char, string> Expansions =
        UnicodeTables.FoldExpansions.ToFrozenDictionary(e => e.Character, e => e.Folded);

    /// <summary>The full case folding of <paramref name="text"/> (which must be valid UTF-16).</summary>
    public static string Fold(string text)
    {
        var builder = new StringBuilder(text.Length);
        Span<char> chars = stackalloc char[2];
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsBmp && Expansions.TryGetValue((char)rune.Value, out var expansion))
            {
                builder.Append(expansion);
                continue;
            }

            var folded = Rune.ToLowerInvariant(Rune.ToUpperInvariant(rune));
            builder.Append(chars[..folded.EncodeToUtf16(chars)]);
        }

        return builder.ToString();
    }
}
