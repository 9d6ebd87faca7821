using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Errors;
using Berth.Web.Hosting;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;

namespace Berth.Web.Components;

/// <summary>
/// The base of every page: the request, the <see cref="Viewer"/>, and one way to turn a refusal or a missing thing
/// into the right answer. <see cref="RunAsync"/> runs the page's work; a <see cref="RegistryException"/> becomes
/// <see cref="Problem"/> (the page shows it with <c>ErrorView</c>, with the same status the API would send), except
/// "sign in first", which redirects an anonymous visitor to the sign-in page and back.
/// </summary>
public abstract class BerthPage : ComponentBase
{
    [CascadingParameter] public HttpContext HttpContext { get; set; } = null!;

    [Inject] public Viewer Viewer { get; set; } = null!;

    [Inject] public NavigationManager Navigation { get; set; } = null!;

    [Inject] public Flash Flash { get; set; } = null!;

    /// <summary>What went wrong, when something did; the page then shows only this.</summary>
    protected ErrorInfo? Problem { get; private set; }

    protected CancellationToken Aborted => HttpContext?.RequestAborted ?? CancellationToken.None;

    /// <summary>Runs <paramref name="work"/>; returns false (with <see cref="Problem"/> set, or a redirect under way) when it was refused.</summary>
    protected async Task<bool> RunAsync(Func<Task> work)
    {
        try
        {
            await work();
            return true;
        }
        catch (RegistryException e)
        {
            Fail(e);
            return false;
        }
    }

    /// <summary>Shows the refusal as the page (status and message), or sends an anonymous visitor to sign in.</summary>
    protected void Fail(RegistryException e)
    {
        if (e.Error.Status == StatusCodes.Status401Unauthorized && !Viewer.SignedIn)
        {
            RedirectToSignIn();
            return;
        }

        Fail(e.Error.Status, e.Message);
    }

    protected void Fail(int status, string message)
    {
        if (status == StatusCodes.Status404NotFound)
        {
            throw new PageErrorException(new ErrorInfo(status, message, null));
        }

        Problem = new ErrorInfo(status, message, null);
        if (HttpContext is { Response.HasStarted: false } context)
        {
            context.Response.StatusCode = status;
            WebUi.KeepErrorBody(context);
        }
    }

    /// <summary>
    /// On a POST, before the page renders anything: <paramref name="demand"/> gets the posted form's name (<c>_handler</c>)
    /// and its fields, and throws the refusal when the viewer may not use that form (<see cref="DemandAsync"/>). A refusal ends the
    /// request with the error page and the status the API would answer (403 naming the role, 404 for what the viewer may
    /// not see), rather than Blazor's 400 for a form the page does not show; the form's handler never runs, so a forged
    /// post changes nothing. Forms the page does not know are left to Blazor (400).
    /// </summary>
    protected async Task GuardPostAsync(Func<string, IFormCollection, Task> demand)
    {
        if (HttpContext is not { } context || !HttpMethods.IsPost(context.Request.Method) || !context.Request.HasFormContentType)
        {
            return;
        }

        var form = await context.Request.ReadFormAsync(Aborted);
        try
        {
            await demand(form["_handler"].ToString(), form);
        }
        catch (RegistryException e)
        {
            throw new PageErrorException(new ErrorInfo(e.Error.Status, e.Error.Status == StatusCodes.Status401Unauthorized ? null : e.Message, null));
        }
    }

    /// <summary>Demands a permission in a namespace through <see cref="AccessControl"/>; throws the same refusal the API would.</summary>
    protected Task DemandAsync(Permission permission, string? ns) => Viewer.DemandAsync(permission, ns, Aborted);

    protected void RedirectToSignIn() =>
        Navigation.NavigateTo("/signin?return=" + Uri.EscapeDataString(LocalPath()), forceLoad: true);

    /// <summary>The current path and query (for "come back here" links).</summary>
    protected string LocalPath() => HttpContext is { } c ? c.Request.Path + c.Request.QueryString : "/";

    /// <summary>
    /// POST-redirect-GET for a secret a form made (a token, a one-time password, a signing secret): kept, encrypted, for
    /// the next page of this session only (<see cref="Flash.Reveal"/>), which shows it once with <see cref="TakeSecret"/>.
    /// Reloading that page then shows it no more and posts nothing again.
    /// </summary>
    protected void RedirectWithSecret(string url, string kind, string subject, string secret)
    {
        Flash.Reveal(Viewer.Actor.TokenId, kind, subject, secret);
        Navigation.NavigateTo(url, forceLoad: true);
    }

    /// <summary>The secret of <paramref name="kind"/> a form of this session made just before this GET, once (see <see cref="RedirectWithSecret"/>).</summary>
    protected RevealedSecret? TakeSecret(string kind) =>
        HttpContext is { } context && HttpMethods.IsGet(context.Request.Method) && Viewer.SignedIn ? Flash.TakeReveal(Viewer.Actor.TokenId, kind) : null;

    /// <summary>POST-redirect-GET: a message for the next page, then the redirect.</summary>
    protected void RedirectWith(string url, string message)
    {
        Flash.Success(message);
        Navigation.NavigateTo(url, forceLoad: true);
    }
}
