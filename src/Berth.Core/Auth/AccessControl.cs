using Berth.Contracts.Errors;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Auth;

/// <summary>
/// The one place that decides whether an actor may do something, for the API and the UI alike:
/// token scopes cap what a request may do; server administrators (and the system) may do everything;
/// otherwise the actor's role in the namespace decides (its own role or one of its teams', the highest
/// wins); anonymous callers may read when the operator allowed it. Roles are looked up once per
/// request scope.
/// </summary>
public sealed class AccessControl(RegistryDbContext db, IOptions<RegistryOptions> options)
{
    private readonly Dictionary<string, NamespaceRole?> _roles = new(StringComparer.Ordinal);
    private long _rolesFor = long.MinValue;

    /// <summary>Throws 401 or 403 when <paramref name="actor"/> may not do <paramref name="permission"/> in <paramref name="namespaceName"/>.</summary>
    public async Task DemandAsync(Actor actor, Permission permission, string? namespaceName, CancellationToken cancellationToken)
    {
        if (await CheckAsync(actor, permission, namespaceName, cancellationToken) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>True when <see cref="DemandAsync"/> would pass.</summary>
    public async Task<bool> CanAsync(Actor actor, Permission permission, string? namespaceName, CancellationToken cancellationToken) =>
        await CheckAsync(actor, permission, namespaceName, cancellationToken) is null;

    /// <summary>The ids of the namespaces the actor may read, or null when it may read them all.</summary>
    public async Task<IReadOnlyCollection<long>?> ReadableNamespaceIdsAsync(Actor actor, CancellationToken cancellationToken)
    {
        if (actor.IsSystem || (actor.IsUser && actor.IsAdmin) || (actor.IsAnonymous && options.Value.AnonymousRead))
        {
            return null;
        }

        if (actor.IsAnonymous)
        {
            return [];
        }

        return await Memberships(actor.UserId).Select(m => m.NamespaceId).Distinct().ToListAsync(cancellationToken);
    }

    /// <summary>The actor's effective role in a namespace (null: none).</summary>
    public async Task<NamespaceRole?> RoleAsync(Actor actor, string namespaceName, CancellationToken cancellationToken)
    {
        if (!actor.IsUser)
        {
            return null;
        }

        if (_rolesFor != actor.UserId)
        {
            _roles.Clear();
            _rolesFor = actor.UserId;
        }

        if (!_roles.TryGetValue(namespaceName, out var role))
        {
            var roles = await Memberships(actor.UserId)
                .Where(m => db.Namespaces.Any(n => n.Id == m.NamespaceId && n.Name == namespaceName))
                .Select(m => m.Role)
                .ToListAsync(cancellationToken);
            role = roles.Count == 0 ? null : roles.Max();
            _roles[namespaceName] = role;
        }

        return role;
    }

    /// <summary>Forgets cached roles (after membership changes in this scope).</summary>
    public void Invalidate() => _roles.Clear();

    private IQueryable<NamespaceMember> Memberships(long userId) =>
        db.NamespaceMembers.AsNoTracking().Where(m =>
            m.UserId == userId || (m.TeamId != null && db.TeamMembers.Any(t => t.TeamId == m.TeamId && t.UserId == userId)));

    private async Task<RegistryException?> CheckAsync(Actor actor, Permission permission, string? namespaceName, CancellationToken cancellationToken)
    {
        if (actor.IsSystem)
        {
            return null;
        }

        if (actor.IsAnonymous)
        {
            return permission == Permission.Read && options.Value.AnonymousRead
                ? null
                : new RegistryException(ErrorCodes.TokenMissing, "This request needs an API token: send 'Authorization: Bearer berth_…' (create one with 'berth token create').");
        }

        var needed = permission switch
        {
            Permission.Read => TokenScopes.Read,
            Permission.Write or Permission.Approve => TokenScopes.Write,
            _ => TokenScopes.Admin,
        };
        if (!actor.Scopes.HasFlag(needed))
        {
            return new RegistryException(ErrorCodes.Forbidden, $"This token has the scopes [{string.Join(", ", ScopeNames.Format(actor.Scopes))}]; the request needs '{ScopeName(needed)}'.");
        }

        if (actor.IsAdmin)
        {
            return null;
        }

        if (namespaceName is null)
        {
            // Global operations (search, listings) filter their results by role; creating a namespace
            // is governed by the creation policy.
            return null;
        }

        var role = await RoleAsync(actor, namespaceName, cancellationToken);
        if (role is null && permission <= Permission.Write && !await db.Namespaces.AnyAsync(n => n.Name == namespaceName, cancellationToken))
        {
            // A namespace that does not exist yet: pushing into it creates it, if the creation policy allows.
            return permission == Permission.Read ? null : NamespaceCreationPolicy.Check(options.Value.NamespaceCreation, actor, namespaceName);
        }

        var granted = role switch
        {
            NamespaceRole.Admin => Permission.Admin,
            NamespaceRole.Approver => Permission.Approve,
            NamespaceRole.Writer => Permission.Write,
            NamespaceRole.Reader => Permission.Read,
            _ => (Permission?)null,
        };
        if (granted is { } g && g >= permission)
        {
            return null;
        }

        var has = role is null ? "no role" : $"the role '{role.Value.ToString().ToLowerInvariant()}'";
        return new RegistryException(ErrorCodes.Forbidden, $"User '{actor.Name}' has {has} in namespace '{namespaceName}'; this needs {Needed(permission)}.");
    }

    /// <summary>Throws 403 when the actor may not create the namespace (<see cref="NamespaceCreationPolicy"/>).</summary>
    public void DemandNamespaceCreation(Actor actor, string namespaceName)
    {
        if (NamespaceCreationPolicy.Check(options.Value.NamespaceCreation, actor, namespaceName) is { } refusal)
        {
            throw refusal;
        }
    }

    private static string Needed(Permission permission) => permission switch
    {
        Permission.Read => "the reader role or higher",
        Permission.Write => "the writer role or higher",
        Permission.Approve => "the approver role or higher",
        _ => "the admin role",
    };

    private static string ScopeName(TokenScopes scope) => scope switch
    {
        TokenScopes.Read => "read",
        TokenScopes.Write => "write",
        _ => "admin",
    };
}
