namespace Berth.Contracts.Naming;

/// <summary>How a version selector resolves.</summary>
public enum SelectorKind
{
    /// <summary>The newest ready version (also the meaning of a reference without a selector).</summary>
    Latest,

    /// <summary>The per-model sequence number (<c>7</c>).</summary>
    Number,

    /// <summary>A semantic version (<c>1.4.0</c> or <c>v1.4.0</c>).</summary>
    SemanticVersion,

    /// <summary>The digest of the version's manifest (<c>sha256:…</c>).</summary>
    Digest,

    /// <summary>An alias or a stage: the two share one name space, so a name resolves one way.</summary>
    Name,
}
