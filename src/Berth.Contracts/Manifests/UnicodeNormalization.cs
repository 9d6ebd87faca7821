using System.Collections.Frozen;
using System.Text;

namespace Berth.Contracts.Manifests;

/// <summary>
/// Unicode normalisation forms C and D (UAX #15) from Berth's own tables (<see cref="UnicodeTables"/>). Berth runs in
/// .NET's globalization-invariant mode, where <see cref="string.Normalize()"/> does nothing, and a path rule must give
/// the same answer on every client and server whatever ICU they carry. Input must be valid UTF-16.
/// </summary>
internal static class UnicodeNormalization
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly FrozenDictionary<int, (int First, int Second)> Decompositions = Build(UnicodeTables.Decompositions, 3)
        .ToFrozenDictionary(r => r[0], r => (r[1], r[2]));

    private static readonly FrozenDictionary<long, int> Compositions = Build(UnicodeTables.Compositions, 3)
        .ToFrozenDictionary(r => ((long)r[0] << 21) | (uint)r[1], r => r[2]);

    /// <summary>The canonical decomposition of the text, canonically ordered.</summary>
    public static string ToNfd(string text) => HasOnlyBelow(text, 0xC0) ? text : Encode(Decompose(text));

    /// <summary>The canonical composition of the text's canonical decomposition.</summary>
    public static string ToNfc(string text) => HasOnlyBelow(text, 0x300) ? text : Encode(Compose(Decompose(text)));

    public static bool IsNfc(string text) => HasOnlyBelow(text, 0x300) || string.Equals(ToNfc(text), text, StringComparison.Ordinal);

    /// <summary>The canonical combining class of a code point (0 for starters).</summary>
    public static int CombiningClass(int codePoint)
    {
        var runs = UnicodeTables.CombiningClasses;
        int low = 0, high = (runs.Length / 3) - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            if (codePoint < runs[middle * 3])
            {
                high = middle - 1;
            }
            else if (codePoint > runs[(middle * 3) + 1])
            {
                low = middle + 1;
            }
            else
            {
                return runs[(middle * 3) + 2];
            }
        }

        return 0;
    }

    private static List<int> Decompose(string text)
    {
        var result = new List<int>(text.Length + 8);
        foreach (var rune in text.EnumerateRunes())
        {
            Append(result, rune.Value);
        }

        // Canonical ordering: each run of non-starters sorted by combining class, stably.
        for (var i = 1; i < result.Count; i++)
        {
            var current = result[i];
            var ccc = CombiningClass(current);
            if (ccc == 0)
            {
                continue;
            }

            var j = i;
            while (j > 0 && CombiningClass(result[j - 1]) > ccc)
            {
                result[j] = result[j - 1];
                j--;
            }

            result[j] = current;
        }

        return result;
    }

    private static void Append(List<int> result, int codePoint)
    {
        if (codePoint is >= SBase and < SBase + SCount)
        {
            var index = codePoint - SBase;
            result.Add(LBase + (index / NCount));
            result.Add(VBase + (index % NCount / TCount));
            if (index % TCount != 0)
            {
                result.Add(TBase + (index % TCount));
            }
        }
        else if (Decompositions.TryGetValue(codePoint, out var parts))
        {
            Append(result, parts.First);
            if (parts.Second != 0)
            {
                Append(result, parts.Second);
            }
        }
        else
        {
            result.Add(codePoint);
        }
    }

    private static List<int> Compose(List<int> decomposed)
    {
        var result = new List<int>(decomposed.Count);
        var starter = -1;
        var lastClass = 0;
        foreach (var codePoint in decomposed)
        {
            var ccc = CombiningClass(codePoint);
            if (starter >= 0)
            {
                // Blocked when something stands between the starter and this character with class 0 or at least its class.
                var blocked = result.Count - 1 != starter && (lastClass == 0 || lastClass >= ccc);
                if (!blocked && TryCompose(result[starter], codePoint, out var composite))
                {
                    result[starter] = composite;
                    continue;
                }
            }

            if (ccc == 0)
            {
                starter = result.Count;
            }

            lastClass = ccc;
            result.Add(codePoint);
        }

        return result;
    }

    private static bool TryCompose(int first, int second, out int composite)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
        {
            composite = SBase + (((first - LBase) * VCount) + (second - VBase)) * TCount;
            return true;
        }

        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0 && second is > TBase and < TBase + TCount)
        {
            composite = first + (second - TBase);
            return true;
        }

        return Compositions.TryGetValue(((long)first << 21) | (uint)second, out composite);
    }

    private static bool HasOnlyBelow(string text, int limit)
    {
        foreach (var c in text)
        {
            if (c >= limit)
            {
                return false;
            }
        }

        return true;
    }

    private static string Encode(List<int> codePoints)
    {
        var builder = new StringBuilder(codePoints.Count);
        foreach (var codePoint in codePoints)
        {
            builder.Append(char.ConvertFromUtf32(codePoint));
        }

        return builder.ToString();
    }

    private static IEnumerable<int[]> Build(int[] flat, int width)
    {
        for (var i = 0; i < flat.Length; i += width)
        {
            yield return flat[i..(i + width)];
        }
    }
}
