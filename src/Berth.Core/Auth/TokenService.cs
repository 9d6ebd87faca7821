using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Audit;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Auth;

/// <summary>Creates, checks, lists and revokes API tokens.</summary>
public sealed class TokenService(RegistryDbContext db, AuditTrail audit, TimeProvider clock)
{
    /// <summary>The longest a token may be asked to live, in days from its creation.</summary>
    public const int MaxLifetimeDays = 3650;

    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private static readonly PerModelQuery<Func<RegistryDbContext, string, CancellationToken, Task<TokenRow?>>> FindByHash = new(() =>
        EF.CompileAsyncQuery((RegistryDbContext context, string hash, CancellationToken _) =>
            context.ApiTokens
                .Where(t => t.Hash == hash)
                .Select(t => new TokenRow(t.Id, t.UserId, t.User.Name, t.User.IsAdmin, t.User.Disabled, t.Scopes, t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.WebSession))
                .FirstOrDefault()));

    public Task<AuthenticationOutcome> AuthenticateAsync(string token, CancellationToken cancellationToken) =>
        AuthenticateAsync(token, null, cancellationToken);

    /// <summary>
    /// Checks the secret of a web session (from the session cookie): a token marked as a web session, valid as any token,
    /// and used within <paramref name="idleTimeout"/> (its last use, recorded once a minute, is the sliding expiry).
    /// </summary>
    public Task<AuthenticationOutcome> AuthenticateWebSessionAsync(string token, TimeSpan idleTimeout, CancellationToken cancellationToken) =>
        AuthenticateAsync(token, idleTimeout, cancellationToken);

    private async Task<AuthenticationOutcome> AuthenticateAsync(string token, TimeSpan? webSessionIdle, CancellationToken cancellationToken)
    {
        if (!TokenSecret.IsWellFormed(token))
        {
            return AuthenticationOutcome.Fail(ErrorCodes.TokenMalformed, "The bearer token is not a Berth API token (berth_ followed by 48 characters).");
        }

        var row = await FindByHash.For(db)(db, TokenSecret.Hash(token), cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        if (row is null)
        {
            return AuthenticationOutcome.Fail(ErrorCodes.TokenInvalid, "The API token is not known to this server.");
        }

        if (row.RevokedAt is not null)
        {
            return AuthenticationOutcome.Fail(ErrorCodes.TokenRevoked, "The API token was revoked; create a new one with 'berth token create'.");
        }

        if (row.ExpiresAt is { } expires && expires <= now)
        {
            return AuthenticationOutcome.Fail(ErrorCodes.TokenExpired, $"The API token expired at {expires:u}; create a new one with 'berth token create'.");
        }

        if (row.UserDisabled)
        {
            return AuthenticationOutcome.Fail(ErrorCodes.UserDisabled, $"User '{row.UserName}' is disabled.");
        }

        if (webSessionIdle is { } idle && (!row.WebSession || (row.LastUsedAt ?? DateTime.MinValue) < now - idle - LastUsedResolution))
        {
            return AuthenticationOutcome.Fail(ErrorCodes.TokenExpired, "The web session ended; sign in again.");
        }

        if (row.LastUsedAt is null || now - row.LastUsedAt.Value > LastUsedResolution)
        {
            // Recorded with a one-minute resolution so that reads stay reads.
            await db.ApiTokens.Where(t => t.Id == row.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken);
        }

        return AuthenticationOutcome.Success(new Actor(row.UserId, row.UserName, row.IsAdmin, row.Id, ScopeNames.ParseStored(row.Scopes)));
    }

    /// <summary>
    /// Creates a token for the caller, or (for a server administrator) for <see cref="CreateTokenRequest.User"/>.
    /// The new token never has more scopes than the token that creates it, never outlives it, and is revoked with it.
    /// </summary>
    public async Task<(ApiToken Token, string Secret)> CreateAsync(Actor actor, CreateTokenRequest request, CancellationToken cancellationToken) =>
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var owner = request.User is null || request.User == actor.Name
                ? await db.Users.SingleAsync(u => u.Id == actor.UserId, ct)
                : actor.IsAdmin
                    ? await db.Users.FirstOrDefaultAsync(u => u.Name == request.User, ct) ?? throw Fail.Error(ErrorCodes.UserNotFound, $"There is no user '{request.User}'.")
                    : throw Fail.Error(ErrorCodes.Forbidden, "Only server administrators may create tokens for other users.");
            return await CreateForAsync(actor, owner, request, actor.Scopes, ct);
        }, cancellationToken);

    /// <summary>
    /// Creates a token for <paramref name="owner"/> inside the caller's transaction. When the actor acts through a
    /// token, that token is the new one's parent: it caps the scopes (<paramref name="callerScopes"/>) and the expiry,
    /// and is read locked, so that a revocation running at the same time either sees the new token or is seen by it.
    /// Without a token (password sign-in, OIDC), the new token is the root of its chain.
    /// </summary>
    internal async Task<(ApiToken Token, string Secret)> CreateForAsync(Actor actor, User owner, CreateTokenRequest request, TokenScopes callerScopes, CancellationToken cancellationToken, bool webSession = false)
    {
        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > 100 || Contracts.Naming.Names.CheckTagValue("name", name) is not null)
        {
            Fail.With(ErrorCodes.InvalidRequest, "A token needs a name of 1-100 printable characters (e.g. 'laptop' or 'ci').");
        }

        var scopes = request.Scopes is { Count: > 0 } ? ScopeNames.Parse(request.Scopes) : callerScopes;
        if ((scopes & ~callerScopes) != 0)
        {
            Fail.With(ErrorCodes.Forbidden, $"A token cannot have more scopes than the token that creates it ([{string.Join(", ", ScopeNames.Format(callerScopes))}]).");
        }

        var now = clock.GetUtcNow();
        ApiToken? parent = null;
        if (actor.TokenId is { } parentId)
        {
            parent = await db.LockedRow<ApiToken>(parentId).AsNoTracking().SingleOrDefaultAsync(cancellationToken);
            if (parent is null || parent.RevokedAt is not null)
            {
                Fail.With(ErrorCodes.TokenRevoked, "The token making this request was revoked; it cannot create tokens.");
            }

            if (parent.ExpiresAt is { } ended && ended <= now.UtcDateTime)
            {
                Fail.With(ErrorCodes.TokenExpired, $"The token making this request expired at {Utc(ended):u}.");
            }
        }

        var expires = Expiry(request, parent?.ExpiresAt is { } e ? Utc(e) : null, now);
        var secret = TokenSecret.Generate();
        var token = new ApiToken
        {
            User = owner,
            UserId = owner.Id,
            ParentId = parent?.Id,
            Name = name,
            Prefix = TokenSecret.DisplayPrefix(secret),
            Hash = TokenSecret.Hash(secret),
            Scopes = string.Join(',', ScopeNames.Format(scopes)),
            CreatedAt = now.UtcDateTime,
            ExpiresAt = expires?.UtcDateTime,
            WebSession = webSession,
            LastUsedAt = webSession ? now.UtcDateTime : null,
        };
        db.ApiTokens.Add(token);
        var details = new Dictionary<string, object?>
        {
            ["name"] = name,
            ["scopes"] = token.Scopes,
            ["expires"] = expires,
            ["parent"] = parent?.Id,
        };
        if (webSession)
        {
            details["webSession"] = true;
        }

        audit.Record("token.create", null, $"token {token.Prefix}… of {owner.Name}", details);
        await db.SaveChangesAsync(cancellationToken);
        return (token, secret);
    }

    /// <summary>
    /// The new token's expiry: the one asked for (<c>expiresInDays</c> or <c>expiresAt</c>), else the parent's (never,
    /// when it has none). Asking for later than the parent's expiry, or than <see cref="MaxLifetimeDays"/> from now,
    /// is refused (400 <c>token_expiry_too_late</c>, with the latest allowed time) rather than silently shortened.
    /// </summary>
    private static DateTimeOffset? Expiry(CreateTokenRequest request, DateTimeOffset? parentExpires, DateTimeOffset now)
    {
        if (request.ExpiresInDays is not null && request.ExpiresAt is not null)
        {
            Fail.With(ErrorCodes.InvalidRequest, "Give either expiresInDays or expiresAt, not both.");
        }

        var latest = now.AddDays(MaxLifetimeDays);
        var why = $"a token lives at most {MaxLifetimeDays} days";
        if (parentExpires is { } p && p < latest)
        {
            latest = p;
            why = "the token that creates it expires then, and a token never outlives its creator";
        }

        DateTimeOffset? wanted = request.ExpiresAt;
        if (request.ExpiresInDays is { } days)
        {
            if (days < 1)
            {
                Fail.With(ErrorCodes.InvalidRequest, "expiresInDays must be at least 1.");
            }

            wanted = days > MaxLifetimeDays ? DateTimeOffset.MaxValue : now.AddDays(days);
        }

        if (wanted is null)
        {
            return parentExpires;
        }

        // As the databases store it (PostgreSQL keeps microseconds), so the answer shows what is stored and the
        // parent's expiry, read back and asked for, is not "later" by a fraction of a microsecond.
        wanted = new DateTimeOffset(wanted.Value.UtcTicks - (wanted.Value.UtcTicks % 10), TimeSpan.Zero);

        if (wanted <= now)
        {
            Fail.With(ErrorCodes.InvalidRequest, "The expiry time is in the past.");
        }

        if (wanted > latest)
        {
            Fail.With(ErrorCodes.TokenExpiryTooLate, $"This token may expire at {latest:u} at the latest: {why}. Ask for an earlier expiry.",
                new Dictionary<string, object?> { ["latestExpiresAt"] = latest });
        }

        return wanted;
    }

    public async Task<Page<TokenInfo>> ListAsync(long userId, bool includeRevoked, Paging paging, CancellationToken cancellationToken)
    {
        var after = paging.AfterId();
        var query = db.ApiTokens.AsNoTracking().Include(t => t.User).Where(t => t.UserId == userId && t.Id > after);
        if (!includeRevoked)
        {
            query = query.Where(t => t.RevokedAt == null);
        }

        var rows = await query.OrderBy(t => t.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        return paging.Page(rows.Select(ToInfo).ToList(), t => t.Id);
    }

    /// <summary>Revokes a token (the caller's own; server administrators any) and, transitively, every token it created (<see cref="RevokeChainAsync"/>).</summary>
    public async Task<TokenInfo> RevokeAsync(Actor actor, long tokenId, CancellationToken cancellationToken)
    {
        var token = await db.ApiTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
        if (token is null || (token.UserId != actor.UserId && !actor.IsAdmin))
        {
            throw Fail.Error(ErrorCodes.TokenNotFound, $"There is no token {tokenId} of yours.");
        }

        await db.InTransactionWithRetryAsync(ct => RevokeChainAsync(tokenId, null, ct), cancellationToken);
        return ToInfo(await db.ApiTokens.AsNoTracking().Include(t => t.User).SingleAsync(t => t.Id == tokenId, cancellationToken));
    }

    /// <summary>
    /// Revokes the user's web sessions except <paramref name="keep"/> (with the tokens they created), inside the caller's
    /// transaction: a password change or reset ends the other browser sessions, which were opened with the old password.
    /// API tokens made for programs stay valid. Returns how many sessions it ended.
    /// </summary>
    internal async Task<int> RevokeWebSessionsAsync(long userId, long? keep, string reason, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var sessions = await db.ApiTokens.AsNoTracking()
            .Where(t => t.UserId == userId && t.WebSession && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now) && t.Id != (keep ?? 0))
            .Select(t => t.Id).ToListAsync(cancellationToken);
        foreach (var id in sessions)
        {
            await RevokeChainAsync(id, reason, cancellationToken);
        }

        return sessions.Count;
    }

    /// <summary>
    /// Revokes a token and, transitively, every token it created, inside the caller's transaction: each level is read
    /// locked, so a token being created from one of them at the same moment is either refused or found here. Each revoked
    /// token gets its own audit entry (with <paramref name="reason"/> for the root, when given).
    /// </summary>
    private async Task<int> RevokeChainAsync(long tokenId, string? reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var revoked = new List<(ApiToken Token, long? Because)>();
        var root = await db.LockedRow<ApiToken>(tokenId).SingleAsync(ct);
        if (root.RevokedAt is null)
        {
            root.RevokedAt = now;
            revoked.Add((root, null));
        }

        var level = new List<long> { root.Id };
        while (level.Count > 0)
        {
            var next = new List<long>();
            foreach (var parentId in level)
            {
                foreach (var child in await LockedChildren(parentId).ToListAsync(ct))
                {
                    next.Add(child.Id);
                    if (child.RevokedAt is null)
                    {
                        child.RevokedAt = now;
                        revoked.Add((child, parentId));
                    }
                }
            }

            level = next;
        }

        var owners = revoked.Select(r => r.Token.UserId).Distinct().ToList();
        var names = await db.Users.Where(u => owners.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Name, ct);
        foreach (var (t, because) in revoked)
        {
            var data = new Dictionary<string, object?> { ["name"] = t.Name };
            if (because is { } parentId)
            {
                data["reason"] = $"its creator, token {parentId}, was revoked";
            }
            else if (reason is not null)
            {
                data["reason"] = reason;
            }

            audit.Record("token.revoke", null, $"token {t.Prefix}… of {names[t.UserId]}", data);
        }

        await db.SaveChangesAsync(ct);
        return revoked.Count;
    }

    /// <summary>The tokens <paramref name="parentId"/> created, read locked until the transaction ends (see <see cref="DbContextExtensions.LockedRow{TEntity}"/>).</summary>
    private IQueryable<ApiToken> LockedChildren(long parentId)
    {
        var entity = db.Model.FindEntityType(typeof(ApiToken))!;
        var table = entity.GetTableName()!;
        var column = entity.FindProperty(nameof(ApiToken.ParentId))!.GetColumnName();
        // Names come from the model, never from input; the id is a parameter.
        var sql = $"SELECT * FROM \"{table}\" WHERE \"{column}\" = {{0}}{db.Dialect.ForUpdate}";
        return db.ApiTokens.FromSqlRaw(sql, parentId);
    }

    public static TokenInfo ToInfo(ApiToken token) => new(
        token.Id,
        token.Name,
        token.Prefix,
        token.User.Name,
        ScopeNames.Format(ScopeNames.ParseStored(token.Scopes)),
        Utc(token.CreatedAt),
        token.ExpiresAt is { } e ? Utc(e) : null,
        token.LastUsedAt is { } u ? Utc(u) : null,
        token.RevokedAt is { } r ? Utc(r) : null,
        token.WebSession);

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private sealed record TokenRow(long Id, long UserId, string UserName, bool IsAdmin, bool UserDisabled, string Scopes, DateTime? ExpiresAt, DateTime? RevokedAt, DateTime? LastUsedAt, bool WebSession);
}
