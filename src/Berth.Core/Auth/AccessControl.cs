using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
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

    /// <summary>
    /// Throws 401, 403 or 404 when <paramref name="actor"/> may not do <paramref name="permission"/> in
    /// <paramref name="namespaceName"/>. A signed-in caller who may not even read the namespace gets the same
    /// 404 whether it exists or not (<see cref="Hidden"/>), so refusals never tell which namespaces exist; one who
    /// may read it but lacks the role gets 403 naming the role needed.
    /// </summary>
    public Task DemandAsync(Actor actor, Permission permission, string? namespaceName, CancellationToken cancellationToken) =>
        DemandAsync(actor, permission, namespaceName, createsNamespace: false, cancellationToken);

    /// <inheritdoc cref="DemandAsync(Actor, Permission, string?, CancellationToken)"/>
    /// <param name="createsNamespace">The operation creates the namespace when it does not exist yet (a push): a name
    /// nobody holds yet is then no refusal, when the server lets the actor create namespaces.</param>
    public async Task DemandAsync(Actor actor, Permission permission, string? namespaceName, bool createsNamespace, CancellationToken cancellationToken)
    {
        if (await CheckAsync(actor, permission, namespaceName, createsNamespace, cancellationToken) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>
    /// <see cref="DemandAsync(Actor, Permission, string?, CancellationToken)"/> for a resource addressed by its id
    /// (a request, a webhook): a caller who may not see its namespace gets <paramref name="hidden"/>, the answer for
    /// an id that does not exist, instead of learning the namespace's name.
    /// </summary>
    public async Task DemandAsync(Actor actor, Permission permission, string namespaceName, Func<RegistryException> hidden, CancellationToken cancellationToken)
    {
        if (await CheckAsync(actor, permission, namespaceName, createsNamespace: false, cancellationToken) is { } refusal)
        {
            throw refusal.Error == ErrorCodes.NamespaceNotFound ? hidden() : refusal;
        }
    }

    /// <summary>True when <see cref="DemandAsync(Actor, Permission, string?, CancellationToken)"/> would pass.</summary>
    public async Task<bool> CanAsync(Actor actor, Permission permission, string? namespaceName, CancellationToken cancellationToken) =>
        await CheckAsync(actor, permission, namespaceName, createsNamespace: false, cancellationToken) is null;

    /// <summary>
    /// The one answer for a namespace the caller may not see, whether it exists or not: the same status, code and
    /// text for every route under it.
    /// </summary>
    /// <param name="namespaceName">The namespace of the route.</param>
    /// <param name="creationRule">The call would create a missing namespace, which the caller may not: the server's rule
    /// (<see cref="NamespaceCreationPolicy.Rule"/>), said whether the namespace exists or not.</param>
    public static RegistryException Hidden(string namespaceName, string? creationRule = null) =>
        new(ErrorCodes.NamespaceNotFound, $"Namespace '{namespaceName}' does not exist, or you have no role in it."
            + (creationRule is null ? "" : $" {creationRule}."));

    /// <summary>The ids of the namespaces the actor may read, or null when it may read them all.</summary>
    public async Task<IReadOnlyCollection<long>?> ReadableNamespaceIdsAsync(Actor actor, CancellationToken cancellationToken)
    {
        if (actor.IsSystem || (actor.IsUser && actor.IsAdmin) || options.Value.AnonymousRead)
        {
            return null;
        }

        if (actor.IsAnonymous)
        {
            return [];
        }

        return await Memberships(actor.UserId).Select(m => m.NamespaceId).Distinct().ToListAsync(cancellationToken);
    }

    /// <summary>
    /// The ids of the namespaces where the actor may do <paramref name="permission"/> (by its own or a team's role), or null
    /// when it may everywhere (server administrators). Token scopes cap it as in <see cref="DemandAsync(Actor, Permission, string?, CancellationToken)"/>.
    /// </summary>
    public async Task<IReadOnlyCollection<long>?> NamespaceIdsWhereAsync(Actor actor, Permission permission, CancellationToken cancellationToken)
    {
        if (actor.IsSystem)
        {
            return null;
        }

        var needed = permission switch
        {
            Permission.Read => TokenScopes.Read,
            Permission.Write or Permission.Approve => TokenScopes.Write,
            _ => TokenScopes.Admin,
        };
        if (!actor.IsUser || !actor.Scopes.HasFlag(needed))
        {
            return [];
        }

        if (actor.IsAdmin)
        {
            return null;
        }

        var minimum = permission switch
        {
            Permission.Read => NamespaceRole.Reader,
            Permission.Write => NamespaceRole.Writer,
            Permission.Approve => NamespaceRole.Approver,
            _ => NamespaceRole.Admin,
        };
        // Roles are stored as names: compared here, not in SQL.
        var memberships = await Memberships(actor.UserId).Select(m => new { m.NamespaceId, m.Role }).ToListAsync(cancellationToken);
        return memberships.Where(m => m.Role >= minimum).Select(m => m.NamespaceId).Distinct().ToList();
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

    private async Task<RegistryException?> CheckAsync(Actor actor, Permission permission, string? namespaceName, bool createsNamespace, CancellationToken cancellationToken)
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

        if (namespaceName is not null && Names.CheckNamespace(namespaceName) is { } invalid)
        {
            // A name that can never exist: saying so reveals nothing.
            return new RegistryException(ErrorCodes.InvalidName, invalid);
        }

        var needed = permission switch
        {
            Permission.Read => TokenScopes.Read,
            Permission.Write or Permission.Approve => TokenScopes.Write,
            _ => TokenScopes.Admin,
        };
        var scopeRefusal = actor.Scopes.HasFlag(needed)
            ? null
            : new RegistryException(ErrorCodes.Forbidden, $"This token has the scopes [{string.Join(", ", ScopeNames.Format(actor.Scopes))}]; the request needs '{ScopeName(needed)}'.");
        if (actor.IsAdmin || namespaceName is null)
        {
            // Global operations (search, listings) filter their results by role; creating a namespace is governed
            // by the creation policy.
            return scopeRefusal;
        }

        var role = await RoleAsync(actor, namespaceName, cancellationToken);
        var creationRefusal = createsNamespace && role is null ? NamespaceCreationPolicy.Check(options.Value.NamespaceCreation, actor, namespaceName) : null;
        if (role is null && createsNamespace && !await db.Namespaces.AnyAsync(n => n.Name == namespaceName, cancellationToken))
        {
            // A push into a name nobody holds yet creates the namespace, when the creation policy lets the actor.
            if (creationRefusal is null)
            {
                return scopeRefusal;
            }

            return options.Value.AnonymousRead
                ? creationRefusal
                : Hidden(namespaceName, NamespaceCreationPolicy.Rule(options.Value.NamespaceCreation, actor));
        }

        if (role is null && !options.Value.AnonymousRead)
        {
            // The caller may not see this namespace: the same 404 as for a namespace that does not exist (on a
            // creating route, with the same hint whether it exists or not).
            return Hidden(namespaceName, creationRefusal is null ? null : NamespaceCreationPolicy.Rule(options.Value.NamespaceCreation, actor));
        }

        if (scopeRefusal is not null)
        {
            return scopeRefusal;
        }

        var granted = role switch
        {
            NamespaceRole.Admin => Permission.Admin,
            NamespaceRole.Approver => Permission.Approve,
            NamespaceRole.Writer => Permission.Write,
            NamespaceRole.Reader => Permission.Read,
            _ => Permission.Read, // no role, but anonymous reads are allowed: a signed-in user may read what anybody may
        };
        if (granted >= permission)
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
