using System.Text;

namespace Berth.Core.Filtering;

/// <summary>
/// What <c>like</c> and <c>ilike</c> mean, the same in memory (stage gates) as in the databases (search): SQL LIKE with
/// <c>\</c> as the escape character, where <c>%</c> matches any run of characters, <c>_</c> exactly one character (a
/// Unicode code point, as in SQLite and PostgreSQL) and <c>\</c> makes the next character literal; a <c>\</c> at the end of
/// a pattern stands for itself. <c>ilike</c> lowers ASCII letters only, on both sides, as the databases' <c>lower()</c>
/// does on Berth's text columns.
/// </summary>
internal static class LikePattern
{
    private const char Escape = '\\';

    /// <summary>Whether <paramref name="value"/> matches <paramref name="pattern"/>, in time proportional to their lengths' product at worst.</summary>
    public static bool Matches(string value, string pattern)
    {
        var text = Runes(value);
        var tokens = new List<(bool Literal, int CodePoint)>(pattern.Length);
        var runes = Runes(pattern);
        for (var i = 0; i < runes.Length; i++)
        {
            tokens.Add(runes[i] == Escape && i + 1 < runes.Length ? (true, runes[++i]) : (runes[i] == Escape, runes[i]));
        }

        // Greedy, going back only to the last '%' (the classic wildcard match): a later '%' can stand for everything an
        // earlier one could, so no other choice is ever revisited.
        int t = 0, v = 0, star = -1, resume = 0;
        while (v < text.Length)
        {
            if (t < tokens.Count && !tokens[t].Literal && tokens[t].CodePoint == '%')
            {
                star = t++;
                resume = v;
            }
            else if (t < tokens.Count && (tokens[t].Literal || tokens[t].CodePoint != '%') && (tokens[t].CodePoint == text[v] || (!tokens[t].Literal && tokens[t].CodePoint == '_')))
            {
                t++;
                v++;
            }
            else if (star >= 0)
            {
                t = star + 1;
                v = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (t < tokens.Count && !tokens[t].Literal && tokens[t].CodePoint == '%')
        {
            t++;
        }

        return t == tokens.Count;
    }

    /// <summary>ASCII letters lowered, everything else as it is.</summary>
    public static string AsciiLower(string text)
    {
        var lower = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            lower.Append(c is >= 'A' and <= 'Z' ? (char)(c + ('a' - 'A')) : c);
        }

        return lower.ToString();
    }

    /// <summary>The pattern as sent to a database: a lone escape character at the end doubled (PostgreSQL refuses a pattern that ends in one; SQLite matches nothing).</summary>
    public static string ForDatabase(string pattern)
    {
        var trailing = pattern.Length - pattern.TrimEnd(Escape).Length;
        return trailing % 2 == 1 ? pattern + Escape : pattern;
    }

    private static int[] Runes(string text)
    {
        var runes = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            runes.Add(rune.Value);
        }

        return [.. runes];
    }
}
