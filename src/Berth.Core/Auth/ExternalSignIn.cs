using Berth.Contracts.Errors;
using Berth.Core.Audit;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Auth;

/// <summary>
/// Turns a verified identity-provider token into a Berth actor. The user is found by issuer and subject
/// (never by name, so a provider account cannot take over a local one) or created at the first sign-in;
/// the provider is authoritative for the user's email, display name, membership of teams mapped to its
/// groups and, when admin groups are configured, the server-administrator flag. Every request reads the
/// user and its mapped teams (two indexed queries) and writes only when something changed, in one audited
/// transaction with the user as the actor.
/// </summary>
public sealed partial class ExternalSignIn(
    RegistryDbContext db,
    AuditTrail audit,
    AuditContext auditContext,
    IOptions<OidcOptions> options,
    TimeProvider clock,
    ILogger<ExternalSignIn> logger)
{
    /// <summary>The sign-in time is recorded with this resolution (which also absorbs the provider's clock running ahead).</summary>
    private static readonly TimeSpan SignInResolution = TimeSpan.FromMinutes(1);

    public async Task<AuthenticationOutcome> SignInAsync(ExternalIdentity identity, CancellationToken cancellationToken)
    {
        var groups = identity.Groups.Distinct(StringComparer.Ordinal).ToList();
        var user = await FindAsync(identity, tracking: false, cancellationToken);
        if (user is not null)
        {
            if (user.Disabled)
            {
                return Disabled(user);
            }

            var teams = await MappedTeamsAsync(user.Id, groups, cancellationToken);
            if (ProfileChanges(user, identity, groups).Count == 0 && !SignInDue(user, identity) && !MembershipChanges(teams, groups).Any())
            {
                return AuthenticationOutcome.Success(ActorFor(user));
            }
        }
        else if (!options.Value.AutoCreateUsers)
        {
            return AuthenticationOutcome.Fail(
                ErrorCodes.UserNotProvisioned,
                $"No Berth user is linked to '{identity.UserName ?? identity.Subject}' of {identity.Issuer}, and this server does not create users at sign-in: ask an administrator for an account.");
        }

        return await db.InTransactionWithRetryAsync(ct => SynchronizeAsync(identity, groups, ct), cancellationToken);
    }

    private async Task<AuthenticationOutcome> SynchronizeAsync(ExternalIdentity identity, List<string> groups, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var user = await FindAsync(identity, tracking: true, cancellationToken);
        if (user is null)
        {
            user = new User
            {
                Name = await UniqueNameAsync(UserNames.FromClaim(identity.UserName ?? identity.Subject), cancellationToken),
                Email = Email(identity),
                DisplayName = DisplayName(identity),
                IsAdmin = AdminFromGroups(groups) ?? false,
                ExternalIssuer = identity.Issuer,
                ExternalSubject = identity.Subject,
                CreatedAt = now,
                LastSignInAt = now,
                Revision = 1,
            };
            db.Users.Add(user);

            // Saved first so that the audit entries can name the new user as their actor.
            await db.SaveChangesAsync(cancellationToken);
            ActAs(user);
            audit.Record("user.create", null, $"user {user.Name}", new Dictionary<string, object?>
            {
                ["source"] = "oidc",
                ["issuer"] = identity.Issuer,
                ["subject"] = identity.Subject,
                ["email"] = user.Email,
                ["admin"] = user.IsAdmin,
            });
            LogUserCreated(logger, user.Name, identity.Subject, identity.Issuer);
        }
        else
        {
            if (user.Disabled)
            {
                return Disabled(user);
            }

            ActAs(user);
            var changes = ProfileChanges(user, identity, groups);
            if (changes.Count > 0)
            {
                if (changes.ContainsKey("email")) user.Email = Email(identity);
                if (changes.ContainsKey("displayName")) user.DisplayName = DisplayName(identity);
                if (changes.TryGetValue("admin", out var admin)) user.IsAdmin = (bool)admin!;
                changes["source"] = "oidc";
                audit.Record("user.update", null, $"user {user.Name}", changes);
            }

            if (changes.Count > 0 || SignInDue(user, identity))
            {
                user.LastSignInAt = now;
                user.Revision++;
            }
        }

        foreach (var (team, add) in MembershipChanges(await MappedTeamsAsync(user.Id, groups, cancellationToken), groups))
        {
            var member = new TeamMember { TeamId = team.Id, UserId = user.Id, AddedAt = now };
            if (add)
            {
                db.TeamMembers.Add(member);
            }
            else
            {
                db.TeamMembers.Remove(member);
            }

            audit.Record(add ? "team.member_add" : "team.member_remove", null, $"team {team.Name}", new Dictionary<string, object?>
            {
                ["user"] = user.Name,
                ["group"] = team.Group,
                ["source"] = "oidc",
            });
        }

        await db.SaveChangesAsync(cancellationToken);
        return AuthenticationOutcome.Success(ActorFor(user));
    }

    private async Task<User?> FindAsync(ExternalIdentity identity, bool tracking, CancellationToken cancellationToken)
    {
        var users = tracking ? db.Users : db.Users.AsNoTracking();
        return await users.FirstOrDefaultAsync(u => u.ExternalIssuer == identity.Issuer && u.ExternalSubject == identity.Subject, cancellationToken);
    }

    /// <summary>The teams mapped to one of the groups, and the mapped teams the user is in.</summary>
    private async Task<List<MappedTeam>> MappedTeamsAsync(long userId, List<string> groups, CancellationToken cancellationToken) =>
        await db.Teams.AsNoTracking()
            .Where(t => t.ExternalGroup != null && (groups.Contains(t.ExternalGroup) || t.Members.Any(m => m.UserId == userId)))
            .Select(t => new MappedTeam(t.Id, t.Name, t.ExternalGroup!, t.Members.Any(m => m.UserId == userId)))
            .ToListAsync(cancellationToken);

    /// <summary>Joins the mapped teams of the token's groups (add) and leaves those of groups it no longer has.</summary>
    private static IEnumerable<(MappedTeam Team, bool Add)> MembershipChanges(List<MappedTeam> teams, List<string> groups) =>
        teams.Where(t => groups.Contains(t.Group, StringComparer.Ordinal) != t.IsMember)
            .Select(t => (t, !t.IsMember));

    private Dictionary<string, object?> ProfileChanges(User user, ExternalIdentity identity, List<string> groups)
    {
        var changes = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (Email(identity) is { } email && email != user.Email)
        {
            changes["email"] = email;
        }

        if (DisplayName(identity) is { } displayName && displayName != user.DisplayName)
        {
            changes["displayName"] = displayName;
        }

        if (AdminFromGroups(groups) is { } admin && admin != user.IsAdmin)
        {
            changes["admin"] = admin;
        }

        return changes;
    }

    /// <summary>A token issued after the last recorded sign-in is a new sign-in (without <c>iat</c>: every minute).</summary>
    private bool SignInDue(User user, ExternalIdentity identity) =>
        user.LastSignInAt is not { } last
        || last < (identity.IssuedAt?.UtcDateTime ?? clock.GetUtcNow().UtcDateTime) - SignInResolution;

    /// <summary>Whether the groups make the user a server administrator; null when no admin groups are configured.</summary>
    private bool? AdminFromGroups(List<string> groups) =>
        options.Value.AdminGroups is { Count: > 0 } admins ? groups.Exists(g => admins.Contains(g, StringComparer.Ordinal)) : null;

    private async Task<string> UniqueNameAsync(string wanted, CancellationToken cancellationToken)
    {
        var name = wanted;
        for (var n = 2; await db.Users.AnyAsync(u => u.Name == name, cancellationToken); n++)
        {
            name = UserNames.WithSuffix(wanted, n);
        }

        return name;
    }

    /// <summary>The email claim when it is an address (a bad claim is ignored rather than refusing the sign-in).</summary>
    private static string? Email(ExternalIdentity identity) =>
        identity.Email is { Length: > 0 } email && UserService.IsEmail(email) ? email : null;

    private static string? DisplayName(ExternalIdentity identity) =>
        identity.DisplayName is { Length: > 0 } name && UserService.IsDisplayName(name) ? name : null;

    private void ActAs(User user) => auditContext.Set(ActorFor(user), auditContext.ClientAddress, auditContext.RequestId);

    /// <summary>Scopes are all: what the user may do is decided by roles.</summary>
    private static Actor ActorFor(User user) => new(user.Id, user.Name, user.IsAdmin, null, TokenScopes.All);

    private static AuthenticationOutcome Disabled(User user) =>
        AuthenticationOutcome.Fail(ErrorCodes.UserDisabled, $"User '{user.Name}' is disabled.");

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Created user {UserName} at the first sign-in of subject {Subject} of {Issuer}")]
    private static partial void LogUserCreated(ILogger logger, string userName, string subject, string issuer);

    private sealed record MappedTeam(long Id, string Name, string Group, bool IsMember);
}
