using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Berth.Web.Hosting;

/// <summary>Tells the UI who the caller is; the server supplies it (the same actor the API sees).</summary>
public sealed class ViewerSource(Func<HttpContext, Actor> actorOf)
{
    public Actor ActorOf(HttpContext context) => actorOf(context);
}

/// <summary>
/// The person looking at a page: their <see cref="Actor"/> (a web session's user, or anonymous) and what they may do,
/// asked of the same <see cref="AccessControl"/> the API uses. Pages show an action only when <see cref="CanAsync"/> says yes;
/// the services refuse it anyway when a form is forged.
/// </summary>
public sealed class Viewer(IHttpContextAccessor http, ViewerSource source, AccessControl access)
{
    public Actor Actor => http.HttpContext is { } context ? source.ActorOf(context) : Actor.Anonymous;

    public bool SignedIn => Actor.IsUser;

    public bool IsServerAdmin => Actor.IsUser && Actor.IsAdmin;

    /// <summary>
    /// Throws the API's refusal unless the viewer is a server administrator (with the admin scope every web session has):
    /// "sign in first" for anonymous visitors, 403 naming the role for everyone else.
    /// </summary>
    public void DemandServerAdmin(string what)
    {
        var actor = Actor;
        if (!actor.IsUser)
        {
            throw new RegistryException(ErrorCodes.TokenMissing, "Sign in first.");
        }

        if (!actor.IsAdmin || !actor.Scopes.HasFlag(TokenScopes.Admin))
        {
            throw new RegistryException(ErrorCodes.Forbidden, $"Only server administrators may {what}; '{actor.Name}' is not one.");
        }
    }

    public Task<bool> CanAsync(Permission permission, string? ns, CancellationToken cancellationToken) =>
        access.CanAsync(Actor, permission, ns, cancellationToken);

    public Task DemandAsync(Permission permission, string? ns, CancellationToken cancellationToken) =>
        access.DemandAsync(Actor, permission, ns, cancellationToken);
}
