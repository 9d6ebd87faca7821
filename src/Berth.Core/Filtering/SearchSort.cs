using Berth.Contracts.Errors;
using Berth.Core.Errors;

namespace Berth.Core.Filtering;

/// <summary>
/// A sort order for search: <c>created</c>, <c>version</c>, <c>name</c> or <c>metrics.&lt;key&gt;</c>,
/// ascending, or descending with a leading <c>-</c>. Ties are broken by the version's id in the same
/// direction. The default is <c>-created</c> (newest first).
/// </summary>
public sealed record SearchSort(SortField Field, bool Descending, string? MetricKey = null)
{
    public static SearchSort Default { get; } = new(SortField.Created, Descending: true);

    /// <summary>Parses a sort; null or blank gives <see cref="Default"/>. Throws <c>invalid_filter</c> otherwise.</summary>
    public static SearchSort Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Default;
        }

        var trimmed = text.Trim();
        var descending = trimmed.StartsWith('-');
        var start = descending ? 1 : 0;
        var body = trimmed[start..];
        SortField? field = body.ToLowerInvariant() switch
        {
            "created" => SortField.Created,
            "version" => SortField.Version,
            "name" => SortField.Name,
            _ => null,
        };
        if (field is { } plain)
        {
            return new SearchSort(plain, descending);
        }

        var problem = "";
        if (body.StartsWith("metrics.", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var lexer = new FilterLexer(trimmed, start);
                var token = lexer.Next();
                if (token.Kind == FilterTokenKind.KeyedField && lexer.Next().Kind == FilterTokenKind.End)
                {
                    return new SearchSort(SortField.Metric, descending, token.Text);
                }
            }
            catch (RegistryException error)
            {
                problem = " (" + error.Message + ")";
            }
        }

        throw new RegistryException(ErrorCodes.InvalidFilter,
            $"Unknown sort '{FilterLexer.Shorten(trimmed)}'{problem}; use created, version, name or metrics.<key>, with a leading '-' for descending order (the default is -created).",
            new Dictionary<string, object?> { ["sort"] = text });
    }

    public override string ToString() => (Descending ? "-" : "") + Field switch
    {
        SortField.Created => "created",
        SortField.Version => "version",
        SortField.Name => "name",
        _ => new FilterField(FilterFieldKind.Metric, MetricKey).ToString(),
    };
}
