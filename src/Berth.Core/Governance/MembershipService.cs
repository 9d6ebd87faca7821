using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Events;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Governance;

/// <summary>Who holds which role in a namespace (users and teams), managed by the namespace's admins.</summary>
public sealed class MembershipService(RegistryDbContext db, ModelLookup lookup, UserService users, TeamService teams, AccessControl access, AuditTrail audit, EventLog events, TimeProvider clock)
{
    public async Task<Page<MemberInfo>> ListAsync(string ns, Paging paging, CancellationToken cancellationToken)
    {
        var space = await lookup.GetNamespaceAsync(ns, cancellationToken);
        var after = paging.AfterId();
        var rows = await db.NamespaceMembers.AsNoTracking().Include(m => m.User).Include(m => m.Team)
            .Where(m => m.NamespaceId == space.Id && m.Id > after).OrderBy(m => m.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, m => m.Id);
        var granters = await GrantersAsync(page.Items, cancellationToken);
        return new Page<MemberInfo>(page.Items.Select(m => ToInfo(ns, m, granters)).ToList(), page.NextCursor);
    }

    /// <summary>Grants (or changes) the role of a user or a team in a namespace.</summary>
    public async Task<MemberInfo> SetAsync(Actor actor, string ns, SetMemberRequest request, CancellationToken cancellationToken)
    {
        var role = ParseRole(request.Role);
        if ((request.User is null) == (request.Team is null))
        {
            Fail.With(ErrorCodes.InvalidRequest, "Name exactly one of 'user' and 'team'.");
        }

        var id = await db.InTransactionWithRetryAsync(async ct =>
        {
            var space = await lookup.GetNamespaceAsync(ns, ct);
            var user = request.User is null ? null : await users.FindAsync(request.User, ct);
            var team = request.Team is null ? null : await teams.FindAsync(request.Team, tracking: false, ct);
            var member = await db.NamespaceMembers.FirstOrDefaultAsync(
                m => m.NamespaceId == space.Id && (user != null ? m.UserId == user.Id : m.TeamId == team!.Id), ct);
            var previous = member?.Role;
            if (member is null)
            {
                member = new NamespaceMember { NamespaceId = space.Id, UserId = user?.Id, TeamId = team?.Id };
                db.NamespaceMembers.Add(member);
            }

            member.Role = role;
            member.GrantedAt = clock.GetUtcNow().UtcDateTime;
            member.GrantedById = actor.UserId;
            audit.Record(previous is null ? "member.add" : "member.update", ns, user is not null ? $"user {user.Name}" : $"team {team!.Name}",
                new Dictionary<string, object?> { ["role"] = RoleName(role), ["previous"] = previous is { } p ? RoleName(p) : null });
            events.Publish(EventTypes.MemberChanged, EventSubject.Of(space), null,
                new Dictionary<string, object?> { ["role"] = previous is { } was ? RoleName(was) : null },
                new Dictionary<string, object?> { ["role"] = RoleName(role) },
                new Dictionary<string, object?> { ["user"] = user?.Name, ["team"] = team?.Name });
            await db.SaveChangesAsync(ct);
            return member.Id;
        }, cancellationToken);
        access.Invalidate();
        var saved = await db.NamespaceMembers.AsNoTracking().Include(m => m.User).Include(m => m.Team).SingleAsync(m => m.Id == id, cancellationToken);
        return ToInfo(ns, saved, await GrantersAsync([saved], cancellationToken));
    }

    public async Task RemoveAsync(string ns, string? userName, string? teamName, CancellationToken cancellationToken)
    {
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var space = await lookup.GetNamespaceAsync(ns, ct);
            var member = await db.NamespaceMembers.Include(m => m.User).Include(m => m.Team)
                .FirstOrDefaultAsync(m => m.NamespaceId == space.Id && (userName != null ? m.User!.Name == userName : m.Team!.Name == teamName), ct)
                ?? throw Fail.Error(ErrorCodes.MemberNotFound, $"{(userName is not null ? $"User '{userName}'" : $"Team '{teamName}'")} has no role in namespace '{ns}'.");
            db.NamespaceMembers.Remove(member);
            audit.Record("member.remove", ns, userName is not null ? $"user {userName}" : $"team {teamName}", new Dictionary<string, object?> { ["role"] = RoleName(member.Role) });
            events.Publish(EventTypes.MemberChanged, EventSubject.Of(space), null,
                new Dictionary<string, object?> { ["role"] = RoleName(member.Role) },
                new Dictionary<string, object?> { ["role"] = null },
                new Dictionary<string, object?> { ["user"] = userName, ["team"] = teamName });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        access.Invalidate();
    }

    public static NamespaceRole ParseRole(string? role) => role switch
    {
        Roles.Reader => NamespaceRole.Reader,
        Roles.Writer => NamespaceRole.Writer,
        Roles.Approver => NamespaceRole.Approver,
        Roles.Admin => NamespaceRole.Admin,
        _ => throw Fail.Error(ErrorCodes.InvalidRole, $"Unknown role '{Contracts.Naming.Names.Show(role)}': use reader, writer, approver or admin."),
    };

    public static string RoleName(NamespaceRole role) => role.ToString().ToLowerInvariant();

    private async Task<Dictionary<long, string>> GrantersAsync(IReadOnlyList<NamespaceMember> members, CancellationToken cancellationToken)
    {
        var ids = members.Select(m => m.GrantedById).Distinct().ToList();
        return await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Name, cancellationToken);
    }

    private static MemberInfo ToInfo(string ns, NamespaceMember m, IReadOnlyDictionary<long, string> granters) =>
        new(ns, m.User?.Name, m.Team?.Name, RoleName(m.Role), DtoMapper.Utc(m.GrantedAt), granters.GetValueOrDefault(m.GrantedById, "system"));
}
