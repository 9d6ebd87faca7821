using System.Diagnostics.CodeAnalysis;

namespace Berth.Contracts.Naming;

/// <summary>
/// A reference to a model or one of its versions: <c>[namespace/]model[:selector]</c> or
/// <c>[namespace/]model@sha256:&lt;hex&gt;</c>. Without a selector the reference means <c>latest</c>
/// (<see cref="HasSelector"/> tells whether one was written).
/// </summary>
public sealed record ModelReference(string? Namespace, string Model, VersionSelector Selector, bool HasSelector)
{
    public static ModelReference Parse(string value) =>
        TryParse(value, out var reference, out var error) ? reference : throw new FormatException(error);

    public static bool TryParse(string? value, [NotNullWhen(true)] out ModelReference? reference, [NotNullWhen(false)] out string? error)
    {
        reference = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "Empty model reference: use [namespace/]model[:selector], e.g. acme/fraud:3.";
            return false;
        }

        string path;
        string? selectorText = null;
        var at = value.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            path = value[..at];
            selectorText = value[(at + 1)..];
            if (!selectorText.StartsWith(Digest.Sha256Prefix, StringComparison.Ordinal))
            {
                error = $"Invalid reference '{Names.Show(value)}': '@' must be followed by sha256:<hex>.";
                return false;
            }
        }
        else
        {
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            path = colon >= 0 ? value[..colon] : value;
            selectorText = colon >= 0 ? value[(colon + 1)..] : null;
        }

        var slash = path.IndexOf('/', StringComparison.Ordinal);
        string? ns = slash >= 0 ? path[..slash] : null;
        var model = slash >= 0 ? path[(slash + 1)..] : path;
        if (model.Contains('/', StringComparison.Ordinal))
        {
            error = $"Invalid reference '{Names.Show(value)}': use namespace/model, with one '/'.";
            return false;
        }

        if (ns is not null && Names.CheckNamespace(ns) is { } nsError)
        {
            error = nsError;
            return false;
        }

        if (Names.CheckModel(model) is { } modelError)
        {
            error = modelError;
            return false;
        }

        var selector = VersionSelector.Latest;
        if (selectorText is not null && !VersionSelector.TryParse(selectorText, out selector, out error))
        {
            return false;
        }

        reference = new ModelReference(ns, model, selector, selectorText is not null);
        error = null;
        return true;
    }

    /// <summary>The same reference with the namespace filled in when it was left out.</summary>
    public ModelReference WithDefaultNamespace(string? defaultNamespace) =>
        Namespace is null && defaultNamespace is not null ? this with { Namespace = defaultNamespace } : this;

    /// <summary><c>namespace/model</c>.</summary>
    public string ModelName => Namespace is null ? Model : $"{Namespace}/{Model}";

    public override string ToString() => HasSelector ? ModelName + Selector.ToReferenceSuffix() : ModelName;
}
