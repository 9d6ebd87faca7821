using Berth.Core.Auth;
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

    public Task<bool> CanAsync(Permission permission, string? ns, CancellationToken cancellationToken) =>
        access.CanAsync(Actor, permission, ns, cancellationToken);

    public Task DemandAsync(Permission permission, string? ns, CancellationToken cancellationToken) =>
        access.DemandAsync(Actor, permission, ns, cancellationToken);
}
