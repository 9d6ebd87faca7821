namespace Berth.Core.Filtering;

/// <summary>A field of a condition; <see cref="Key"/> is set for metrics, params and tags only.</summary>
public sealed record FilterField(FilterFieldKind Kind, string? Key = null)
{
    public override string ToString() => Kind switch
    {
        FilterFieldKind.Name => "name",
        FilterFieldKind.Namespace => "namespace",
        FilterFieldKind.Version => "version",
        FilterFieldKind.SemVer => "semver",
        FilterFieldKind.Stage => "stage",
        FilterFieldKind.Alias => "alias",
        FilterFieldKind.Created => "created",
        FilterFieldKind.Digest => "digest",
        FilterFieldKind.Size => "size",
        FilterFieldKind.Files => "files",
        FilterFieldKind.Status => "status",
        FilterFieldKind.Metric => "metrics." + FormatKey(Key),
        FilterFieldKind.Param => "params." + FormatKey(Key),
        FilterFieldKind.Metadata => "metadata." + Key,
        FilterFieldKind.Scan => "scan." + Key,
        _ when LineageFilter.IsLineage(Kind) => LineageFilter.Name(Kind),
        _ => "tags." + FormatKey(Key),
    };

    private static string FormatKey(string? key) =>
        key is { Length: > 0 } && key.All(FilterLexer.IsBareKeyChar)
            ? key
            : "`" + (key ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("`", "\\`", StringComparison.Ordinal) + "`";
}
