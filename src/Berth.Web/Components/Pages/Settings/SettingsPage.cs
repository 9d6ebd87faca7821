using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Berth.Web.Hosting;
using Microsoft.AspNetCore.Http;

namespace Berth.Web.Components.Pages.Settings;

/// <summary>
/// The base of the settings pages: <see cref="BerthPage"/> plus one way to run a form's action. A refusal about
/// permissions (401, 403, a hidden namespace's 404) becomes the page's answer, as on every page; any other refusal (a weak
/// password, a taken name, an unknown user, an address webhooks may not call) is shown beside its form with the API's
/// status, and the page is loaded again.
/// </summary>
public abstract class SettingsPage : BerthPage
{
    /// <summary>The message of a refused form, by form name (shown beside that form).</summary>
    protected Dictionary<string, string> Errors { get; } = new(StringComparer.Ordinal);

    /// <summary>The error of <paramref name="form"/>, if it was refused.</summary>
    protected string? ErrorOf(string form) => Errors.GetValueOrDefault(form);

    /// <summary>Loads the page (its data and what the viewer may do); called on GET, on POST before the handler, and after a refused form.</summary>
    protected abstract Task LoadAsync();

    /// <summary>Runs a form's action; see the class summary for what happens when it is refused.</summary>
    protected async Task ActAsync(string form, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (RegistryException e)
        {
            // Access was checked before the form ran; a 404 now is about what the form names (a user, a team, a model),
            // except for a namespace that went away.
            // A wrong password (401 sign_in_failed) is the form's answer, not a reason to sign in again.
            if (e.Error.Status is 403 || (e.Error.Status == 401 && e.Error != ErrorCodes.SignInFailed) || e.Error == ErrorCodes.NamespaceNotFound)
            {
                Fail(e);
                return;
            }

            // What the form named does not exist (404 in the API): a page cannot answer 404 with its own body (Blazor
            // leaves a 404 to the status-code pages), so the form's refusal is a 400 with the API's message.
            Refuse(form, e.Error.Status == StatusCodes.Status404NotFound ? StatusCodes.Status400BadRequest : e.Error.Status, e.Message);
            await RunAsync(LoadAsync);
        }
    }

    /// <summary>Shows <paramref name="message"/> beside <paramref name="form"/> with <paramref name="status"/> (the page renders again).</summary>
    protected void Refuse(string form, int status, string message)
    {
        Errors[form] = message;
        HttpContext.Response.StatusCode = status;
        WebUi.KeepErrorBody(HttpContext);
    }

    /// <summary>Every value of a repeated field of the posted form (ticked checkboxes), which form binding does not collect.</summary>
    protected IReadOnlyList<string> Posted(string field) =>
        HttpContext.Request.HasFormContentType ? HttpContext.Request.Form[field].Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToList() : [];

    /// <summary>Throws what the API answers a caller who is not a server administrator (401 anonymous, 403 otherwise).</summary>
    protected void DemandServerAdmin()
    {
        if (!Viewer.SignedIn)
        {
            throw new RegistryException(ErrorCodes.TokenMissing, "Sign in first.");
        }

        if (!Viewer.IsServerAdmin)
        {
            throw new RegistryException(ErrorCodes.Forbidden, "Only server administrators (with an admin-scoped token) may do this.");
        }
    }

    /// <summary>Throws 401 for an anonymous visitor (the page then sends them to sign in).</summary>
    protected void DemandSignedIn()
    {
        if (!Viewer.SignedIn)
        {
            throw new RegistryException(ErrorCodes.TokenMissing, "Sign in first.");
        }
    }

    /// <summary>The standard start of a settings page: guard the posted form, then load (on a POST too: the form must be on the page for its handler to run).</summary>
    protected async Task StartAsync(Func<string, Microsoft.AspNetCore.Http.IFormCollection, Task> guard)
    {
        if (!Viewer.SignedIn)
        {
            RedirectToSignIn();
            return;
        }

        await GuardPostAsync(guard);
        await RunAsync(LoadAsync);
    }
}
