namespace Berth.Web.Components.UI;

/// <summary>One breadcrumb: its text and link (null: the current page).</summary>
public sealed record Crumb(string Text, string? Href = null);
