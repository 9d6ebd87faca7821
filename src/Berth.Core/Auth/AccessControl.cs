using Berth.Contracts.Errors;
using Berth.Core.Configuration;
using Berth.Core.Errors;
using Microsoft.Extensions.Options;

namespace Berth.Core.Auth;

/// <summary>
/// The one place that decides whether an actor may do something, for the API and the UI alike.
/// Today: tokens are limited by their scopes, server administrators may do everything, anonymous
/// callers may read when the operator allowed it. Namespace roles plug in here.
/// </summary>
public sealed class AccessControl(IOptions<RegistryOptions> options)
{
    /// <summary>Throws 401 or 403 when <paramref name="actor"/> may not do <paramref name="permission"/> in <paramref name="namespaceName"/>.</summary>
    public void Demand(Actor actor, Permission permission, string? namespaceName)
    {
        if (Check(actor, permission, namespaceName) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>True when <see cref="Demand"/> would pass; used to filter listings and search results.</summary>
    public bool Can(Actor actor, Permission permission, string? namespaceName) =>
        Check(actor, permission, namespaceName) is null;

    private RegistryException? Check(Actor actor, Permission permission, string? namespaceName)
    {
        if (actor.IsAnonymous)
        {
            return permission == Permission.Read && options.Value.AnonymousRead
                ? null
                : new RegistryException(ErrorCodes.TokenMissing, "This request needs an API token: send 'Authorization: Bearer berth_…' (create one with 'berth token create').");
        }

        var needed = permission switch
        {
            Permission.Read => TokenScopes.Read,
            Permission.Write => TokenScopes.Write,
            _ => TokenScopes.Admin,
        };
        if (!actor.Scopes.HasFlag(needed))
        {
            return new RegistryException(ErrorCodes.Forbidden, $"This token has the scopes [{string.Join(", ", ScopeNames.Format(actor.Scopes))}]; the request needs '{Name(permission)}'.");
        }

        if (!actor.IsAdmin)
        {
            var where = namespaceName is null ? "" : $" in namespace '{namespaceName}'";
            return new RegistryException(ErrorCodes.Forbidden, $"User '{actor.Name}' has no {Name(permission)} access{where}.");
        }

        return null;
    }

    private static string Name(Permission permission) => permission switch
    {
        Permission.Read => "read",
        Permission.Write => "write",
        _ => "admin",
    };
}
