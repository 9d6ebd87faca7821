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

/// <summary>
/// Users: created by server administrators with a one-time password, signed in with a password (the
/// first sign-in sets a new one), disabled and re-enabled. A disabled user's tokens stop working at
/// once, because every request checks the user.
/// </summary>
public sealed class UserService(RegistryDbContext db, TokenService tokens, SignInThrottler throttle, AuditTrail audit, TimeProvider clock)
{
    public async Task<Page<UserDetails>> ListAsync(Paging paging, CancellationToken cancellationToken)
    {
        var after = paging.AfterString() ?? "";
        var users = await db.Users.AsNoTracking().Where(u => string.Compare(u.Name, after) > 0)
            .OrderBy(u => u.Name).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(users, u => u.Name);
        var ids = page.Items.Select(u => u.Id).ToList();
        var teams = await db.TeamMembers.AsNoTracking().Where(m => ids.Contains(m.UserId))
            .Join(db.Teams, m => m.TeamId, t => t.Id, (m, t) => new { m.UserId, t.Name }).ToListAsync(cancellationToken);
        return new Page<UserDetails>(page.Items.Select(u => ToDetails(u, teams.Where(t => t.UserId == u.Id).Select(t => t.Name))).ToList(), page.NextCursor);
    }

    public async Task<UserDetails> GetAsync(string name, CancellationToken cancellationToken)
    {
        var user = await FindAsync(name, cancellationToken);
        var teams = await db.TeamMembers.AsNoTracking().Where(m => m.UserId == user.Id)
            .Join(db.Teams, m => m.TeamId, t => t.Id, (_, t) => t.Name).ToListAsync(cancellationToken);
        return ToDetails(user, teams);
    }

    public async Task<CreatedUser> CreateAsync(CreateUserRequest request, CancellationToken cancellationToken)
    {
        CheckName(request.Name);
        CheckProfile(request.Email, request.DisplayName);
        var password = PasswordHasher.GenerateOneTimePassword();
        var user = await db.InTransactionWithRetryAsync(async ct =>
        {
            if (await db.Users.AnyAsync(u => u.Name == request.Name, ct))
            {
                Fail.With(ErrorCodes.UserExists, $"User '{request.Name}' already exists.");
            }

            var created = new User
            {
                Name = request.Name,
                Email = request.Email,
                DisplayName = request.DisplayName,
                IsAdmin = request.IsAdmin,
                PasswordHash = PasswordHasher.Hash(password),
                MustChangePassword = true,
                CreatedAt = clock.GetUtcNow().UtcDateTime,
                Revision = 1,
            };
            db.Users.Add(created);
            audit.Record("user.create", null, $"user {request.Name}", new Dictionary<string, object?> { ["email"] = request.Email, ["admin"] = request.IsAdmin });
            await db.SaveChangesAsync(ct);
            return created;
        }, cancellationToken);
        return new CreatedUser(ToDetails(user, []), password);
    }

    public async Task<UserDetails> UpdateAsync(string name, UpdateUserRequest request, CancellationToken cancellationToken)
    {
        CheckProfile(request.Email, request.DisplayName);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var user = await FindAsync(name, ct);
            var changes = new Dictionary<string, object?>();
            if (request.Email is not null && request.Email != user.Email)
            {
                changes["email"] = request.Email;
                user.Email = request.Email.Length == 0 ? null : request.Email;
            }

            if (request.DisplayName is not null && request.DisplayName != user.DisplayName)
            {
                changes["displayName"] = request.DisplayName;
                user.DisplayName = request.DisplayName.Length == 0 ? null : request.DisplayName;
            }

            if (request.IsAdmin is { } admin && admin != user.IsAdmin)
            {
                changes["admin"] = admin;
                user.IsAdmin = admin;
            }

            if (request.Disabled is { } disabled && disabled != user.Disabled)
            {
                changes["disabled"] = disabled;
                user.Disabled = disabled;
            }

            if (changes.Count > 0)
            {
                user.Revision++;
                audit.Record(request.Disabled == true ? "user.disable" : request.Disabled == false ? "user.enable" : "user.update", null, $"user {name}", changes);
                await db.SaveChangesAsync(ct);
            }

            return true;
        }, cancellationToken);
        return await GetAsync(name, cancellationToken);
    }

    /// <summary>Gives the user a new one-time password (an administrator's reset); the user's web sessions end.</summary>
    public async Task<CreatedUser> ResetPasswordAsync(string name, CancellationToken cancellationToken)
    {
        var password = PasswordHasher.GenerateOneTimePassword();
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var user = await FindAsync(name, ct);
            user.PasswordHash = PasswordHasher.Hash(password);
            user.MustChangePassword = true;
            user.Revision++;
            audit.Record("user.password_reset", null, $"user {name}");
            await db.SaveChangesAsync(ct);
            await tokens.RevokeWebSessionsAsync(user.Id, null, "an administrator reset the password", ct);
            return true;
        }, cancellationToken);
        return new CreatedUser(await GetAsync(name, cancellationToken), password);
    }

    /// <summary>
    /// Changes the caller's own password (the endpoint needs a write-scoped token). A wrong current password counts
    /// like a failed sign-in from the caller's address (<see cref="SignInThrottler"/>). The user's other web sessions end
    /// (they were opened with the old password; the session making the change stays); API tokens stay valid.
    /// </summary>
    public async Task ChangePasswordAsync(Actor actor, ChangePasswordRequest request, AuditContext context, CancellationToken cancellationToken)
    {
        Fail.If(PasswordHasher.CheckStrength(request.NewPassword), ErrorCodes.WeakPassword);
        await VerifyOwnPasswordAsync(actor, request.CurrentPassword, context, cancellationToken);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var user = await db.Users.SingleAsync(u => u.Id == actor.UserId, ct);
            user.PasswordHash = PasswordHasher.Hash(request.NewPassword);
            user.MustChangePassword = false;
            user.Revision++;
            audit.Record("user.password_change", null, $"user {user.Name}");
            await db.SaveChangesAsync(ct);
            await tokens.RevokeWebSessionsAsync(user.Id, actor.TokenId, "the password was changed", ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Creates an API token for the caller after checking their password again (the web UI's "confirm with your password"):
    /// like a password sign-in, the token is the root of its own chain, so it outlives the web session that asked for it
    /// (signing out does not revoke it) and may live up to <see cref="TokenService.MaxLifetimeDays"/> days. A wrong
    /// password counts like a failed sign-in (<see cref="SignInThrottler"/>).
    /// </summary>
    public async Task<(ApiToken Token, string Secret)> CreateTokenWithPasswordAsync(Actor actor, string? password, CreateTokenRequest request, AuditContext context, CancellationToken cancellationToken)
    {
        if (!actor.IsUser)
        {
            Fail.With(ErrorCodes.TokenMissing, "Creating a token needs a signed-in user.");
        }

        await VerifyOwnPasswordAsync(actor, password, context, cancellationToken);
        return await db.InTransactionWithRetryAsync(async ct =>
        {
            var owner = await db.Users.SingleAsync(u => u.Id == actor.UserId, ct);
            return await tokens.CreateForAsync(actor with { TokenId = null }, owner, request with { User = null }, TokenScopes.All, ct);
        }, cancellationToken);
    }

    private async Task VerifyOwnPasswordAsync(Actor actor, string? password, AuditContext context, CancellationToken cancellationToken)
    {
        var attempt = await throttle.BeginAsync(context.ClientAddress, actor.Name, cancellationToken);
        var hash = await db.Users.Where(u => u.Id == actor.UserId).Select(u => u.PasswordHash).SingleAsync(cancellationToken);
        if (hash is null ? PasswordHasher.VerifyNothing(password ?? "") : !PasswordHasher.Verify(password ?? "", hash))
        {
            throttle.Failed(attempt, actor.Name);
            throw Fail.Error(ErrorCodes.SignInFailed, "The current password is wrong.");
        }

        await throttle.SucceededAsync(attempt, cancellationToken);
    }

    /// <summary>
    /// Password sign-in: checks the password (throttled per client address and account, never locking the account;
    /// see <see cref="SignInThrottler"/>), sets a new one when the current one is a one-time password, and issues a
    /// session token, the root of its token chain. Unknown users, disabled users and wrong passwords get the same
    /// answer, counted and timed alike (an unknown user's password is checked against a dummy hash).
    /// </summary>
    public Task<SignInResponse> SignInAsync(SignInRequest request, AuditContext context, CancellationToken cancellationToken) =>
        SignInAsync(request, context, webSession: null, cancellationToken);

    /// <summary>
    /// A web UI sign-in: the same checks, throttling and forced password change as <see cref="SignInAsync(SignInRequest, AuditContext, CancellationToken)"/>;
    /// the session token is marked as a web session (its secret goes only into the session cookie) and lives at most
    /// <paramref name="lifetime"/>.
    /// </summary>
    public Task<SignInResponse> SignInWebAsync(string user, string password, string? newPassword, TimeSpan lifetime, AuditContext context, CancellationToken cancellationToken) =>
        SignInAsync(new SignInRequest(user, password, newPassword, "web session"), context, lifetime, cancellationToken);

    private async Task<SignInResponse> SignInAsync(SignInRequest request, AuditContext context, TimeSpan? webSession, CancellationToken cancellationToken)
    {
        var name = request.User ?? "";
        var attempt = await throttle.BeginAsync(context.ClientAddress, name, cancellationToken);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Name == name, cancellationToken);
        var password = request.Password ?? "";
        var valid = user is { Disabled: false, PasswordHash: { } hash } ? PasswordHasher.Verify(password, hash) : PasswordHasher.VerifyNothing(password);
        if (!valid || user is null)
        {
            throttle.Failed(attempt, user?.Name);
            throw Fail.Error(ErrorCodes.SignInFailed, "The user name or password is wrong (or the user is disabled).");
        }

        await throttle.SucceededAsync(attempt, cancellationToken);
        if (user.MustChangePassword && request.NewPassword is null)
        {
            throw Fail.Error(ErrorCodes.PasswordChangeRequired, "This is a one-time password: sign in again with a new password.");
        }

        if (request.NewPassword is not null)
        {
            Fail.If(PasswordHasher.CheckStrength(request.NewPassword), ErrorCodes.WeakPassword);
        }

        var tokenName = string.IsNullOrWhiteSpace(request.TokenName) ? "session" : request.TokenName;
        var created = await StartSessionAsync(user, request.NewPassword, tokenName, webSession, request.ExpiresInDays, webSession is null ? null : "web", context, cancellationToken);
        return new SignInResponse(new UserInfo(user.Id, user.Name, user.Email, user.DisplayName, user.IsAdmin), created);
    }

    /// <summary>
    /// A web session for a user the identity provider has just signed in (the browser's OIDC sign-in, after
    /// <see cref="ExternalSignIn"/> linked the user): the same kind of token as a password sign-in's web session, audited as
    /// <c>user.sign_in</c> via oidc.
    /// </summary>
    public async Task<CreatedToken> SignInExternalWebAsync(long userId, TimeSpan lifetime, AuditContext context, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null or { Disabled: true })
        {
            throw Fail.Error(ErrorCodes.UserDisabled, "This user is disabled; ask an administrator.");
        }

        return await StartSessionAsync(user, null, "web session", lifetime, null, "oidc", context, cancellationToken);
    }

    /// <summary>Records the sign-in (and a new password) and creates the session's token, in one transaction.</summary>
    private async Task<CreatedToken> StartSessionAsync(
        User user, string? newPassword, string tokenName, TimeSpan? webSession, int? expiresInDays, string? via, AuditContext context, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var actor = new Actor(user.Id, user.Name, user.IsAdmin, null, TokenScopes.All);
        context.Set(actor, context.ClientAddress, context.RequestId);
        var created = await db.InTransactionWithRetryAsync(async ct =>
        {
            var tracked = await db.Users.SingleAsync(u => u.Id == user.Id, ct);
            if (newPassword is not null)
            {
                tracked.PasswordHash = PasswordHasher.Hash(newPassword);
                tracked.MustChangePassword = false;
                audit.Record("user.password_change", null, $"user {user.Name}");
            }

            tracked.LastSignInAt = now;
            tracked.Revision++;
            audit.Record("user.sign_in", null, $"user {user.Name}", via is null ? null : new Dictionary<string, object?> { ["via"] = via });
            await db.SaveChangesAsync(ct);
            var tokenRequest = webSession is { } lifetime
                ? new CreateTokenRequest(tokenName, null, ExpiresAt: clock.GetUtcNow() + lifetime)
                : new CreateTokenRequest(tokenName, null, expiresInDays ?? 30);
            return await tokens.CreateForAsync(actor, tracked, tokenRequest, TokenScopes.All, ct, webSession: webSession is not null);
        }, cancellationToken);
        return new CreatedToken(TokenService.ToInfo(created.Token), created.Secret);
    }

    public async Task<User> FindAsync(string name, CancellationToken cancellationToken)
    {
        CheckName(name);
        return await db.Users.FirstOrDefaultAsync(u => u.Name == name, cancellationToken)
            ?? throw Fail.Error(ErrorCodes.UserNotFound, $"There is no user '{name}'.");
    }

    internal static void CheckName(string? name)
    {
        if (name is not { Length: >= 1 and <= 64 } || Names.CheckNamespace(name.Length == 1 ? name + name : name) is not null)
        {
            Fail.With(ErrorCodes.InvalidName, $"Invalid user name '{Names.Show(name)}': use 1-64 lowercase letters and digits, with single '-', '_' or '.' between them.");
        }
    }

    private static void CheckProfile(string? email, string? displayName)
    {
        if (email is { Length: > 0 } && !IsEmail(email))
        {
            Fail.With(ErrorCodes.InvalidRequest, $"'{Names.Show(email)}' is not an email address.");
        }

        if (displayName is not null && !IsDisplayName(displayName))
        {
            Fail.With(ErrorCodes.InvalidRequest, "A display name has at most 200 printable characters.");
        }
    }

    internal static bool IsEmail(string email) =>
        email.Length <= 320 && email.Contains('@', StringComparison.Ordinal) && !email.Any(char.IsWhiteSpace);

    internal static bool IsDisplayName(string displayName) =>
        displayName.Length <= 200 && Names.CheckTagValue("displayName", displayName) is null;

    public static UserDetails ToDetails(User user, IEnumerable<string> teams) => new(
        user.Id,
        user.Name,
        user.Email,
        user.DisplayName,
        user.IsAdmin,
        user.Disabled,
        user.PasswordHash is not null,
        user.MustChangePassword,
        user.ExternalIssuer,
        Registry.DtoMapper.Utc(user.CreatedAt),
        Registry.DtoMapper.Utc(user.LastSignInAt),
        teams.Order(StringComparer.Ordinal).ToList(),
        user.Revision);
}
