using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Berth.Contracts.Naming;

/// <summary>
/// A semantic version (semver.org 2.0) without build metadata: <c>MAJOR.MINOR.PATCH[-prerelease]</c>,
/// optionally written with a leading <c>v</c>. <see cref="ToString"/> gives the normalised form
/// (no <c>v</c>), which is what Berth stores and compares for uniqueness.
/// </summary>
public sealed partial record SemanticVersion(long Major, long Minor, long Patch, string? Prerelease) : IComparable<SemanticVersion>
{
    public const int MaxLength = 128;

    [GeneratedRegex(
        @"^v?(0|[1-9][0-9]{0,17})\.(0|[1-9][0-9]{0,17})\.(0|[1-9][0-9]{0,17})(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>True when the text has the shape of a semantic version (with or without 'v').</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out SemanticVersion? version)
    {
        version = null;
        if (value is null || value.Length > MaxLength)
        {
            return false;
        }

        var match = Pattern().Match(value);
        if (!match.Success)
        {
            return false;
        }

        version = new SemanticVersion(
            long.Parse(match.Groups[1].ValueSpan),
            long.Parse(match.Groups[2].ValueSpan),
            long.Parse(match.Groups[3].ValueSpan),
            match.Groups[4].Success ? match.Groups[4].Value : null);
        return true;
    }

    public static string? Check(string? value) =>
        TryParse(value, out _)
            ? null
            : $"Invalid semantic version '{Names.Show(value)}': use MAJOR.MINOR.PATCH with an optional -prerelease (e.g. 1.4.0 or 2.0.0-rc.1); build metadata (+…) is not supported.";

    public override string ToString() =>
        Prerelease is null ? $"{Major}.{Minor}.{Patch}" : $"{Major}.{Minor}.{Patch}-{Prerelease}";

    public int CompareTo(SemanticVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = Major.CompareTo(other.Major);
        if (c == 0) c = Minor.CompareTo(other.Minor);
        if (c == 0) c = Patch.CompareTo(other.Patch);
        if (c != 0) return c;
        if (Prerelease is null) return other.Prerelease is null ? 0 : 1;
        if (other.Prerelease is null) return -1;
        return ComparePrerelease(Prerelease, other.Prerelease);
    }

    /// <summary>
    /// semver.org §11.4: identifiers of digits only are numeric and compare as numbers of any size (without leading
    /// zeros, the longer is the larger); they come before alphanumeric ones (<c>-5</c> is alphanumeric), which compare in
    /// ASCII order.
    /// </summary>
    private static int ComparePrerelease(string a, string b)
    {
        var left = a.Split('.');
        var right = b.Split('.');
        for (var i = 0; i < Math.Min(left.Length, right.Length); i++)
        {
            var leftNumeric = left[i].All(char.IsAsciiDigit);
            var rightNumeric = right[i].All(char.IsAsciiDigit);
            var c = (leftNumeric, rightNumeric) switch
            {
                (true, true) => left[i].Length != right[i].Length ? left[i].Length.CompareTo(right[i].Length) : string.CompareOrdinal(left[i], right[i]),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(left[i], right[i]),
            };
            if (c != 0)
            {
                return c;
            }
        }

        return left.Length.CompareTo(right.Length);
    }
}
