using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Auth;

/// <summary>Teams: named groups of users that hold namespace roles together (managed by server administrators).</summary>
public sealed class TeamService(RegistryDbContext db, UserService users, AuditTrail audit, TimeProvider clock)
{
    public async Task<Page<TeamInfo>> ListAsync(Paging paging, CancellationToken cancellationToken)
    {
        var after = paging.AfterString() ?? "";
        var teams = await db.Teams.AsNoTracking().Include(t => t.Members).ThenInclude(m => m.User)
            .Where(t => string.Compare(t.Name, after) > 0).OrderBy(t => t.Name).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(teams, t => t.Name);
        return new Page<TeamInfo>(page.Items.Select(ToInfo).ToList(), page.NextCursor);
    }

    public async Task<TeamInfo> GetAsync(string name, CancellationToken cancellationToken) =>
        ToInfo(await FindAsync(name, tracking: false, cancellationToken));

    public async Task<TeamInfo> CreateAsync(CreateTeamRequest request, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNamespace(request.Name) is null ? null : $"Invalid team name '{Names.Show(request.Name)}': use 2-64 lowercase letters and digits, with single '-', '_' or '.' between them.", ErrorCodes.InvalidName);
        if (request.Description is { Length: > 4096 } || request.ExternalGroup is { Length: 0 or > 256 })
        {
            Fail.With(ErrorCodes.InvalidRequest, "A description has at most 4096 characters; an external group 1-256.");
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            if (await db.Teams.AnyAsync(t => t.Name == request.Name, ct))
            {
                Fail.With(ErrorCodes.TeamExists, $"Team '{request.Name}' already exists.");
            }

            db.Teams.Add(new Team { Name = request.Name, Description = request.Description, ExternalGroup = request.ExternalGroup, CreatedAt = clock.GetUtcNow().UtcDateTime });
            audit.Record("team.create", null, $"team {request.Name}", new Dictionary<string, object?> { ["externalGroup"] = request.ExternalGroup });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        return await GetAsync(request.Name, cancellationToken);
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken) =>
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var team = await FindAsync(name, tracking: true, ct);
            db.Teams.Remove(team);
            audit.Record("team.delete", null, $"team {name}");
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);

    public async Task<TeamInfo> AddMemberAsync(string name, string userName, CancellationToken cancellationToken)
    {
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var team = await FindAsync(name, tracking: true, ct);
            var user = await users.FindAsync(userName, ct);
            if (!team.Members.Any(m => m.UserId == user.Id))
            {
                team.Members.Add(new TeamMember { UserId = user.Id, AddedAt = clock.GetUtcNow().UtcDateTime });
                audit.Record("team.member_add", null, $"team {name}", new Dictionary<string, object?> { ["user"] = userName });
                await db.SaveChangesAsync(ct);
            }

            return true;
        }, cancellationToken);
        return await GetAsync(name, cancellationToken);
    }

    public async Task<TeamInfo> RemoveMemberAsync(string name, string userName, CancellationToken cancellationToken)
    {
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var team = await FindAsync(name, tracking: true, ct);
            var user = await users.FindAsync(userName, ct);
            if (team.Members.RemoveAll(m => m.UserId == user.Id) == 0)
            {
                Fail.With(ErrorCodes.MemberNotFound, $"User '{userName}' is not in team '{name}'.");
            }

            audit.Record("team.member_remove", null, $"team {name}", new Dictionary<string, object?> { ["user"] = userName });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        return await GetAsync(name, cancellationToken);
    }

    internal async Task<Team> FindAsync(string name, bool tracking, CancellationToken cancellationToken)
    {
        var query = db.Teams.Include(t => t.Members).ThenInclude(m => m.User).AsQueryable();
        if (!tracking)
        {
            query = query.AsNoTracking();
        }

        return await query.FirstOrDefaultAsync(t => t.Name == name, cancellationToken)
            ?? throw Fail.Error(ErrorCodes.TeamNotFound, $"There is no team '{Names.Show(name)}'.");
    }

    private static TeamInfo ToInfo(Team team) => new(
        team.Name,
        team.Description,
        team.ExternalGroup,
        team.Members.Select(m => m.User.Name).Order(StringComparer.Ordinal).ToList(),
        Registry.DtoMapper.Utc(team.CreatedAt));
}
