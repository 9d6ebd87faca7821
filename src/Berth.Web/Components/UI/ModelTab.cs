namespace Berth.Web.Components.UI;

/// <summary>The section of a model a page shows (<see cref="ModelTabs"/>).</summary>
public enum ModelTab
{
    Overview,
    Runs,
}
