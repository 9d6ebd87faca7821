using System.Numerics;
using Berth.Contracts.Naming;
using CsCheck;

namespace Berth.Core.Tests.Properties;

/// <summary>
/// <see cref="SemanticVersion"/> against the SemVer 2.0 specification (semver.org §2, §9, §11), written out again here
/// independently: which texts are versions, their normal form, and their precedence.
/// </summary>
public sealed class SemanticVersionPropertyTests
{
    /// <summary>Numeric identifiers, small and larger than any machine integer.</summary>
    private static readonly Gen<string> Numeric = Gen.Frequency(
        (4, Gen.Int[0, 20].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.Select(Generated.From("123456789", 1, 1), Generated.From("0123456789", 0, 24), (first, rest) => first + rest)));

    /// <summary>Alphanumeric identifiers: at least one letter or hyphen (so "-5", "--" and "0a" are alphanumeric).</summary>
    private static readonly Gen<string> Alphanumeric =
        Generated.From("0123456789aAzZ-", 1, 6).Where(s => !s.All(char.IsAsciiDigit));

    private static readonly Gen<string> Prerelease =
        Gen.Frequency((2, Numeric), (2, Alphanumeric)).Array[1, 4].Select(ids => string.Join('.', ids));

    private static readonly Gen<string> Core = Gen.Select(Numeric, Numeric, Numeric, (a, b, c) => $"{a}.{b}.{c}")
        .Where(core => core.Split('.').All(n => n.Length <= 18));

    /// <summary>Valid versions in their normal form (no 'v').</summary>
    private static readonly Gen<string> Valid = Gen.Select(Core, Prerelease.Null(0.4), (core, pre) => pre is null ? core : core + "-" + pre);

    /// <summary>Near misses: valid versions with one thing changed, and version-shaped noise.</summary>
    private static readonly Gen<string> Texts = Gen.Frequency(
        (3, Valid),
        (2, Gen.Select(Valid, Generated.Hostile(["0", "1", "00", ".", "-", "+", "v", "V", "a", "\n", "99999999999999999999"], 3), Gen.Int[0, 2],
            (version, noise, where) => where switch { 0 => noise + version, 1 => version + noise, _ => version.Insert(version.Length / 2, noise) })),
        (1, Generated.Hostile(["0", "1", "12", ".", "-", "v", "a", "+", "\n"], 12)));

    [Fact]
    public void EveryValidVersionParsesToItsNormalFormWithOrWithoutV()
    {
        Gen.Select(Valid, Gen.Bool).Sample((text, withV) =>
        {
            Assert.True(SemanticVersion.TryParse(withV ? "v" + text : text, out var version), Generated.Show(text));
            Assert.Equal(text, version.ToString());
            Assert.Null(SemanticVersion.Check(text));
        }, iter: Generated.Iterations, threads: Generated.Threads);
    }

    [Fact]
    public void ATextIsAcceptedExactlyWhenTheSpecificationSaysItIsAVersion()
    {
        Texts.Sample(text =>
        {
            var accepted = SemanticVersion.TryParse(text, out var version);
            Assert.True(accepted == Grammar.IsVersion(text), $"{Generated.Show(text)}: accepted {accepted}, the specification says {!accepted}");
            if (accepted)
            {
                // The normal form is the text itself, without its 'v': nothing else is silently dropped or changed.
                Assert.Equal(text.StartsWith('v') ? text[1..] : text, version!.ToString());
            }
        }, iter: Generated.Iterations * 4, threads: Generated.Threads, print: Generated.Show);
    }

    [Fact]
    public void PrecedenceIsTheSpecificationsOrder()
    {
        Gen.Select(Valid, Valid).Sample((left, right) =>
        {
            var a = SemanticVersion.TryParse(left, out var x) ? x : throw new InvalidOperationException(left);
            var b = SemanticVersion.TryParse(right, out var y) ? y : throw new InvalidOperationException(right);
            var expected = Math.Sign(Precedence(left, right));
            Assert.True(expected == Math.Sign(a.CompareTo(b)), $"{left} vs {right}: expected {expected}, got {a.CompareTo(b)}");
            Assert.Equal(-Math.Sign(a.CompareTo(b)), Math.Sign(b.CompareTo(a)));
            Assert.Equal(a.CompareTo(b) == 0, a.Equals(b));
        }, iter: Generated.Iterations * 4, threads: Generated.Threads);
    }

    [Fact]
    public void SortingIsConsistentWithThePairwiseOrder()
    {
        Valid.Array[2, 12].Sample(texts =>
        {
            var sorted = texts.Select(t => SemanticVersion.TryParse(t, out var v) ? v : throw new InvalidOperationException(t)).Order().ToList();
            for (var i = 1; i < sorted.Count; i++)
            {
                Assert.True(Precedence(sorted[i - 1].ToString(), sorted[i].ToString()) <= 0, $"{sorted[i - 1]} sorted before {sorted[i]}");
            }
        }, iter: Generated.Iterations, threads: Generated.Threads);
    }

    [Fact]
    public void TheExamplesOfTheSpecificationAreInOrder()
    {
        // semver.org §11.
        string[] ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"];
        var parsed = ordered.Select(t => SemanticVersion.TryParse(t, out var v) ? v : throw new InvalidOperationException(t)).ToList();
        Assert.Equal(ordered, parsed.OrderBy(v => v).Select(v => v.ToString()));
    }

    [Theory]
    [InlineData("1.0.0-100000000000000000000", "1.0.0-99999999999999999999")]
    [InlineData("1.0.0--1", "1.0.0-1")]
    [InlineData("1.0.0-a.-5", "1.0.0-a.2")]
    public void NumericIdentifiersCompareAsNumbersOfAnySizeAndOnlyDigitsAreNumeric(string greater, string lesser)
    {
        Assert.True(SemanticVersion.TryParse(greater, out var a));
        Assert.True(SemanticVersion.TryParse(lesser, out var b));
        Assert.True(a.CompareTo(b) > 0, $"{greater} should come after {lesser}");
    }

    [Theory]
    [InlineData("1.0.0\n")]
    [InlineData("v1.2.3-rc.1\n")]
    public void ATrailingLineBreakIsNotPartOfAVersion(string text)
    {
        Assert.False(SemanticVersion.TryParse(text, out _));
        Assert.NotNull(SemanticVersion.Check(text));
    }

    /// <summary>semver.org §11: the core numerically; a pre-release before the release; identifiers one by one.</summary>
    private static int Precedence(string left, string right)
    {
        static (BigInteger[] Core, string[]? Pre) Split(string v)
        {
            var dash = v.IndexOf('-', StringComparison.Ordinal);
            var core = (dash < 0 ? v : v[..dash]).Split('.').Select(n => BigInteger.Parse(n, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            return (core, dash < 0 ? null : v[(dash + 1)..].Split('.'));
        }

        var (a, aPre) = Split(left);
        var (b, bPre) = Split(right);
        for (var i = 0; i < 3; i++)
        {
            if (a[i] != b[i])
            {
                return a[i].CompareTo(b[i]);
            }
        }

        if (aPre is null || bPre is null)
        {
            return (aPre is null ? 1 : 0) - (bPre is null ? 1 : 0);
        }

        for (var i = 0; i < Math.Min(aPre.Length, bPre.Length); i++)
        {
            var (x, y) = (aPre[i], bPre[i]);
            var (xNumeric, yNumeric) = (x.All(char.IsAsciiDigit), y.All(char.IsAsciiDigit));
            var c = (xNumeric, yNumeric) switch
            {
                (true, true) => BigInteger.Parse(x, System.Globalization.CultureInfo.InvariantCulture).CompareTo(BigInteger.Parse(y, System.Globalization.CultureInfo.InvariantCulture)),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(x, y),
            };
            if (c != 0)
            {
                return c;
            }
        }

        return aPre.Length.CompareTo(bPre.Length);
    }
}
