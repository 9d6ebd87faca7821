using Berth.Contracts.Dtos;

namespace Berth.Core.Events;

/// <summary>A webhook's event filter as stored: comma-separated types, or <c>*</c>.</summary>
public static class WebhookEvents
{
    public const string All = "*";

    public static bool Includes(string filter, string type) =>
        filter == All || filter.Split(',').Contains(type, StringComparer.Ordinal);

    /// <summary>Null when every name is a known event type (or <c>*</c>); otherwise the first unknown one.</summary>
    public static string? FirstUnknown(IEnumerable<string> types) =>
        types.FirstOrDefault(t => t != All && !EventTypes.All.Contains(t, StringComparer.Ordinal));

    public static string Format(IReadOnlyCollection<string>? types) =>
        types is null || types.Count == 0 || types.Contains(All) ? All : string.Join(',', types.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

    public static IReadOnlyList<string> Parse(string filter) => filter == All ? [All] : filter.Split(',');
}
