using Berth.Contracts.Naming;
using CsCheck;

namespace Berth.Core.Tests.Properties;

/// <summary>
/// Names, digests, selectors and references (<c>[namespace/]model[:selector]</c>, <c>[namespace/]model@sha256:…</c>)
/// against the grammar of docs/api.md and DESIGN.md, written out again here character by character: the parser accepts
/// exactly what the grammar allows, never throws anything but <see cref="FormatException"/>, and what it accepts prints
/// back to the same reference.
/// </summary>
public sealed class ReferencePropertyTests
{
    private const string Lower = "abcdefghijklmnopqrstuvwxyz";

    private static readonly string[] NamePieces = ["a", "b", "z", "0", "7", "9", "-", "_", ".", "ab", "x1", "v1", "v", "A", "latest", "staging", "production"];

    private static readonly Gen<string> Segment = Gen.Select(Generated.From(Lower + "0123456789", 1, 5), Generated.From(Lower + "0123456789", 1, 4).Array[0, 3], Gen.OneOf('-', '_', '.'),
        (head, tails, separator) => head + string.Concat(tails.Select(t => separator + t)));

    private static readonly Gen<string> Namespace = Segment.Where(s => s.Length is >= 2 and <= 64);

    private static readonly Gen<string> Model = Segment.Where(s => s.Length <= 128);

    private static readonly Gen<string> Alias = Gen.Select(Generated.From(Lower, 1, 1), Segment, (first, rest) => first + rest)
        .Where(a => Grammar.IsAlias(a, Names.DefaultStages));

    private static readonly Gen<string> DigestText = Generated.From(Grammar.Hex, 64, 64).Select(hex => "sha256:" + hex);

    private static readonly Gen<string> SemVer = Gen.Select(Gen.Int[0, 30], Gen.Int[0, 30], Gen.Int[0, 30], Gen.OneOf("", "-rc.1", "-alpha", "-0.b-c"),
        (a, b, c, pre) => $"{a}.{b}.{c}{pre}");

    /// <summary>A selector as a user writes it, and its normal form.</summary>
    private static readonly Gen<(string Written, string Normal)> Selector = Gen.OneOf(
        Gen.Int[1, 999_999_999].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).Select(n => (n, n)),
        Gen.Select(SemVer, Gen.Bool).Select((v, withV) => (withV ? "v" + v : v, v)),
        Alias.Select(a => (a, a)),
        Gen.Const<(string, string)>(("latest", "latest")));

    /// <summary>Texts near the grammar: valid references with hostile fragments spliced in, and noise.</summary>
    private static readonly Gen<string> ReferenceTexts = Gen.Frequency(
        (2, Gen.Select(Namespace, Model, Selector).Select((ns, model, selector) => $"{ns}/{model}:{selector.Written}")),
        (3, Gen.Select(Gen.Select(Namespace, Model, Selector).Select((ns, model, selector) => $"{ns}/{model}:{selector.Written}"),
            Generated.Hostile([.. NamePieces, ":", "/", "@", "@sha256:", "sha256:"], 3), Gen.Int[0, 100],
            (text, noise, at) => text.Insert(at * text.Length / 100, noise))),
        (1, Gen.Select(Namespace, Model, DigestText, Generated.Hostile(["", "/", "@", ":", "A", "\n"], 2), (ns, model, digest, noise) => $"{ns}/{model}@{digest}{noise}")),
        (1, Generated.Hostile([.. NamePieces, ":", "/", "@", "sha256:", "1.0.0"], 10)));

    [Fact]
    public void EveryReferenceOfTheGrammarParsesToItsPartsAndPrintsBack()
    {
        Gen.Select(Namespace.Null(0.3), Model, Gen.Frequency((3, Selector.Select(s => ((string, string)?)s)), (1, Gen.Const(((string, string)?)null))), DigestText, Gen.Bool)
            .Sample((ns, model, selector, digest, byDigest) =>
            {
                var path = ns is null ? model : $"{ns}/{model}";
                var text = byDigest ? $"{path}@{digest}" : selector is { } s ? $"{path}:{s.Item1}" : path;
                var reference = ModelReference.Parse(text);
                Assert.Equal(ns, reference.Namespace);
                Assert.Equal(model, reference.Model);
                Assert.Equal(byDigest || selector is not null, reference.HasSelector);
                var normal = byDigest ? $"{path}@{digest}" : selector is { } n ? $"{path}:{n.Item2}" : path;
                Assert.Equal(normal, reference.ToString());
                Assert.Equal(reference, ModelReference.Parse(reference.ToString()));
                if (byDigest)
                {
                    Assert.Equal(SelectorKind.Digest, reference.Selector.Kind);
                    Assert.Equal(digest, reference.Selector.Digest.ToString());
                }
            }, iter: Generated.Iterations, threads: Generated.Threads);
    }

    [Fact]
    public void AReferenceIsAcceptedExactlyWhenTheGrammarAllowsItAndThenPrintsBackToItself()
    {
        ReferenceTexts.Sample(text =>
        {
            var accepted = ModelReference.TryParse(text, out var reference, out var error);
            Assert.True(accepted == (!string.IsNullOrWhiteSpace(text) && Grammar.IsReference(text)), $"{Generated.Show(text)}: accepted {accepted} ({error}), the grammar says {!accepted}");
            if (!accepted)
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
                Assert.Throws<FormatException>(() => ModelReference.Parse(text));
                return;
            }

            // Only a semantic version's 'v' is normalised away.
            var printed = reference!.ToString();
            Assert.True(printed == text || (reference.Selector.Kind == SelectorKind.SemanticVersion && text == printed.Replace(":", ":v", StringComparison.Ordinal)),
                $"{Generated.Show(text)} printed as {Generated.Show(printed)}");
            Assert.Equal(reference, ModelReference.Parse(printed));
        }, iter: Generated.Iterations * 4, threads: Generated.Threads, print: Generated.Show);
    }

    [Fact]
    public void ASelectorIsAcceptedExactlyWhenTheGrammarAllowsIt()
    {
        Gen.Frequency(
                (2, Selector.Select(s => s.Written)),
                (1, DigestText),
                (3, Gen.Select(Gen.OneOf(Selector.Select(s => s.Written), DigestText), Generated.Hostile(["0", "1", ".", "-", "v", "A", "sha256:", "\n"], 2), Gen.Bool,
                    (selector, noise, before) => before ? noise + selector : selector + noise)),
                (1, Generated.Hostile([.. NamePieces, "0", "1", "sha256:", "1.0.0"], 8)))
            .Sample(text =>
            {
                var accepted = VersionSelector.TryParse(text, out var selector, out _);
                Assert.True(accepted == Grammar.IsSelector(text), $"{Generated.Show(text)}: accepted {accepted}, the grammar says {!accepted}");
                // The server's entry point refuses what the parser refuses, as a 400 invalid_reference.
                if (!accepted)
                {
                    var refused = Assert.Throws<Errors.RegistryException>(() => Registry.ModelLookup.ParseSelector(text));
                    Assert.Equal(Contracts.Errors.ErrorCodes.InvalidReference, refused.Error);
                }
                else
                {
                    Assert.Equal(selector, Registry.ModelLookup.ParseSelector(text));
                    Assert.Equal(selector, VersionSelector.Parse(selector!.Text));
                    Assert.Equal(text.StartsWith('v') && selector.Kind == SelectorKind.SemanticVersion ? text[1..] : text, selector.Text);
                }
            }, iter: Generated.Iterations * 4, threads: Generated.Threads, print: Generated.Show);
    }

    [Fact]
    public void EachNamingRuleAcceptsExactlyItsGrammar()
    {
        var near = Gen.Frequency(
            (4, Generated.Hostile(NamePieces, 10)),
            (1, Gen.Select(Segment, Gen.Int[60, 130]).Select((s, n) => string.Concat(Enumerable.Repeat(s, (n / s.Length) + 1))[..n])),
            (1, Gen.Select(Segment, Generated.Hostile(["\n", "\r\n", " ", "\0", "A"], 1)).Select((s, noise) => s + noise)));
        near.Sample(text =>
        {
            Assert.True((Names.CheckNamespace(text) is null) == Grammar.IsNamespace(text), "namespace " + Generated.Show(text));
            Assert.True((Names.CheckModel(text) is null) == Grammar.IsModel(text), "model " + Generated.Show(text));
            Assert.True((Names.CheckEnvironment(text) is null) == (Grammar.IsSegment(text) && text.Length <= 64), "environment " + Generated.Show(text));
            Assert.True((Names.CheckAlias(text) is null) == Grammar.IsAlias(text, Names.DefaultStages), "alias " + Generated.Show(text));
            Assert.True((Names.CheckStage(text) is null) == Grammar.IsStage(text), "stage " + Generated.Show(text));
            Assert.True((Names.CheckKey("tag", text) is null) == Grammar.IsKey(text), "key " + Generated.Show(text));
        }, iter: Generated.Iterations * 4, threads: Generated.Threads, print: Generated.Show);
    }

    [Fact]
    public void ADigestIsAcceptedExactlyInItsOneSpellingAndPrintsBackToIt()
    {
        Gen.Frequency(
                (2, DigestText),
                (2, Gen.Select(DigestText, Gen.Int[0, 70], Generated.Hostile(["A", "F", "g", "0", ":", "\n", "sha512:", "SHA256:"], 1))
                    .Select((d, at, noise) => d.Insert(Math.Min(at, d.Length), noise))),
                (1, Gen.Select(DigestText, Gen.Int[1, 70]).Select((d, cut) => d[..Math.Min(cut, d.Length - 1)])),
                (1, DigestText.Select(d => d.ToUpperInvariant())),
                (1, Generated.AnyText))
            .Sample(text =>
            {
                var expected = Grammar.IsDigest(text);
                Assert.Equal(expected, Digest.TryParse(text, out var digest));
                if (expected)
                {
                    Assert.Equal(text, digest.ToString());
                    Assert.Equal(text[7..], digest.Hex);
                }
                else
                {
                    Assert.Throws<FormatException>(() => Digest.Parse(text));
                }
            }, iter: Generated.Iterations, threads: Generated.Threads, print: Generated.Show);
    }

    [Theory]
    [InlineData("acme\n")]
    [InlineData("acme/fraud\n")]
    [InlineData("acme/fraud:champion\n")]
    [InlineData("acme/fraud:v1.0.0\n")]
    public void ATrailingLineBreakIsNotPartOfAName(string text)
    {
        Assert.False(ModelReference.TryParse(text, out _, out _));
    }

    [Fact]
    public void NoNamingRuleAcceptsATrailingLineBreak()
    {
        Assert.NotNull(Names.CheckNamespace("acme\n"));
        Assert.NotNull(Names.CheckModel("fraud\n"));
        Assert.NotNull(Names.CheckAlias("champion\n"));
        Assert.NotNull(Names.CheckStage("staging\n"));
        Assert.NotNull(Names.CheckEnvironment("prod\n"));
        Assert.NotNull(Names.CheckKey("tag", "team\n"));
    }
}
