namespace Berth.Web.Components.UI;

/// <summary>A posted decision on a transition request: approve, reject or cancel, with the reviewer's comment.</summary>
public sealed record RequestAction(long Id, string Decision, string? Comment);
