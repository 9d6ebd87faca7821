using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Berth.Contracts.Naming;

/// <summary>
/// The part of a reference after ':' (or '@' for digests): a number, a semantic version, a digest,
/// <c>latest</c>, or a name (alias or stage). Parsing is the same in the CLI, the API and the UI.
/// </summary>
public sealed record VersionSelector
{
    private VersionSelector(SelectorKind kind, string text)
    {
        Kind = kind;
        Text = text;
    }

    public static VersionSelector Latest { get; } = new(SelectorKind.Latest, Names.Latest);

    public SelectorKind Kind { get; }

    /// <summary>The normalised selector text (semantic versions without 'v', digests with 'sha256:').</summary>
    public string Text { get; }

    public int Number => Kind == SelectorKind.Number ? int.Parse(Text, CultureInfo.InvariantCulture) : throw new InvalidOperationException("Not a number selector.");

    public Digest Digest => Kind == SelectorKind.Digest ? Digest.Parse(Text) : throw new InvalidOperationException("Not a digest selector.");

    public static VersionSelector ForNumber(int number) =>
        number > 0 ? new(SelectorKind.Number, number.ToString(CultureInfo.InvariantCulture)) : throw new ArgumentOutOfRangeException(nameof(number));

    public static VersionSelector ForDigest(Digest digest) => new(SelectorKind.Digest, digest.ToString());

    public static VersionSelector Parse(string value) =>
        TryParse(value, out var selector, out var error) ? selector : throw new FormatException(error);

    public static bool TryParse(string? value, [NotNullWhen(true)] out VersionSelector? selector, [NotNullWhen(false)] out string? error)
    {
        selector = null;
        error = null;
        if (string.IsNullOrEmpty(value))
        {
            error = "Empty version selector: use a number, a semantic version, an alias, a stage, 'latest' or sha256:<hex>.";
            return false;
        }

        if (string.Equals(value, Names.Latest, StringComparison.Ordinal))
        {
            selector = Latest;
            return true;
        }

        if (value.StartsWith(Naming.Digest.Sha256Prefix, StringComparison.Ordinal))
        {
            if (Naming.Digest.TryParse(value, out var digest))
            {
                selector = ForDigest(digest);
                return true;
            }

            error = $"Invalid digest selector '{Names.Show(value)}': expected sha256: followed by 64 lowercase hex characters.";
            return false;
        }

        if (value[0] is >= '0' and <= '9')
        {
            if (value.Contains('.', StringComparison.Ordinal))
            {
                return TryParseSemVer(value, out selector, out error);
            }

            if (value.Length <= 9 && value[0] != '0' && value.All(char.IsAsciiDigit))
            {
                selector = new VersionSelector(SelectorKind.Number, value);
                return true;
            }

            error = $"Invalid version number '{Names.Show(value)}': use a positive number without leading zeros (e.g. 7).";
            return false;
        }

        if (value.Length > 1 && value[0] == 'v' && value[1] is >= '0' and <= '9')
        {
            return TryParseSemVer(value, out selector, out error);
        }

        // Aliases and stages share the name space; a stage name passes the alias pattern, so the
        // alias rule without the stage check validates both.
        var nameError = Names.CheckAlias(value, stages: []);
        if (nameError is not null)
        {
            error = $"Invalid version selector '{Names.Show(value)}': use a number, a semantic version, an alias, a stage, 'latest' or sha256:<hex>.";
            return false;
        }

        selector = new VersionSelector(SelectorKind.Name, value);
        return true;
    }

    private static bool TryParseSemVer(string value, [NotNullWhen(true)] out VersionSelector? selector, [NotNullWhen(false)] out string? error)
    {
        if (SemanticVersion.TryParse(value, out var version))
        {
            selector = new VersionSelector(SelectorKind.SemanticVersion, version.ToString());
            error = null;
            return true;
        }

        selector = null;
        error = SemanticVersion.Check(value)!;
        return false;
    }

    /// <summary>The selector as written after the model name: ':7', ':1.2.0', ':champion' or '@sha256:…'.</summary>
    public string ToReferenceSuffix() => Kind == SelectorKind.Digest ? "@" + Text : ":" + Text;

    public override string ToString() => Text;
}
