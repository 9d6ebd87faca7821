namespace Berth.Web.Hosting;

/// <summary>
/// Ends a page with an error page (the exception handler renders it in the layout). Used for 404: Blazor leaves the body
/// of a page that sets 404 itself to the status-code pages, which would lose the page's message.
/// </summary>
public sealed class PageErrorException(ErrorInfo error) : Exception(error.Message)
{
    public ErrorInfo Error { get; } = error;
}
