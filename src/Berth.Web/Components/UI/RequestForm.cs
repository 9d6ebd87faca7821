namespace Berth.Web.Components.UI;

/// <summary>The fields of a request's review form (<see cref="RequestCard"/>): the button pressed and the comment.</summary>
public sealed class RequestForm
{
    public string? Decision { get; set; }

    public string? Comment { get; set; }
}
