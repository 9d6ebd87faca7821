using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Berth.Core.Filtering;

namespace Berth.Core.Registry;

public enum CatalogSortField
{
    Updated,
    Name,
    Metric,
}

/// <summary>
/// The order of the models dashboard: <c>updated</c> (newest first, the default), <c>name</c> (A to Z), or
/// <c>metrics.&lt;key&gt;</c> (highest first); a leading <c>-</c> reverses <c>name</c> and metrics, and
/// <c>-updated</c> is the same as <c>updated</c>; <c>+updated</c> lists the least recently updated first.
/// </summary>
public sealed record CatalogSort(CatalogSortField Field, bool Descending, string? MetricKey = null)
{
    public static CatalogSort Default { get; } = new(CatalogSortField.Updated, true);

    /// <summary>Parses a sort; null or blank gives <see cref="Default"/>. Throws <c>invalid_filter</c> for anything else.</summary>
    public static CatalogSort Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Default;
        }

        var trimmed = text.Trim();
        switch (trimmed.ToLowerInvariant())
        {
            case "updated" or "-updated":
                return Default;
            case "+updated":
                return new CatalogSort(CatalogSortField.Updated, false);
            case "name" or "+name":
                return new CatalogSort(CatalogSortField.Name, false);
            case "-name":
                return new CatalogSort(CatalogSortField.Name, true);
        }

        // The same metric syntax as search (metrics.auc, metrics.`val/loss`); highest first unless '+'.
        var ascending = trimmed.StartsWith('+');
        var body = ascending || trimmed.StartsWith('-') ? trimmed[1..] : trimmed;
        try
        {
            var parsed = SearchSort.Parse(body);
            if (parsed.Field == SortField.Metric)
            {
                return new CatalogSort(CatalogSortField.Metric, !ascending, parsed.MetricKey);
            }
        }
        catch (RegistryException e) when (e.Error == ErrorCodes.InvalidFilter)
        {
        }

        throw new RegistryException(ErrorCodes.InvalidFilter,
            $"Unknown sort '{FilterLexer.Shorten(trimmed)}'; use updated, name, -name or metrics.<key> (highest first; +metrics.<key> for lowest first).");
    }

    public override string ToString() => Field switch
    {
        CatalogSortField.Updated => Descending ? "updated" : "+updated",
        CatalogSortField.Name => Descending ? "-name" : "name",
        _ => (Descending ? "" : "+") + new FilterField(FilterFieldKind.Metric, MetricKey).ToString(),
    };
}
