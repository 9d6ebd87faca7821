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
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private static readonly PerModelQuery<Func<RegistryDbContext, string, CancellationToken, Task<TokenRow?>>> FindByHash = new(() =>
        EF.CompileAsyncQuery((RegistryDbContext context, string hash, CancellationToken _) =>
            context.ApiTokens
                .Where(t => t.Hash == hash)
                .Select(t => new TokenRow(t.Id, t.UserId, t.User.Name, t.User.IsAdmin, t.User.Disabled, t.Scopes, t.ExpiresAt, t.RevokedAt, t.LastUsedAt))
                .FirstOrDefault()));

    public async Task<AuthenticationOutcome> AuthenticateAsync(string token, CancellationToken cancellationToken)
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

        if (row.LastUsedAt is null || now - row.LastUsedAt.Value > LastUsedResolution)
        {
            // Recorded with a one-minute resolution so that reads stay reads.
            await db.ApiTokens.Where(t => t.Id == row.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken);
        }

        return AuthenticationOutcome.Success(new Actor(row.UserId, row.UserName, row.IsAdmin, row.Id, ScopeNames.ParseStored(row.Scopes)));
    }

    /// <summary>
    /// Creates a token for the caller, or (for a server administrator) for <see cref="CreateTokenRequest.User"/>.
    /// A token never has more scopes than the token that creates it.
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

    /// <summary>Creates a token for <paramref name="owner"/> inside the caller's transaction.</summary>
    internal async Task<(ApiToken Token, string Secret)> CreateForAsync(Actor actor, User owner, CreateTokenRequest request, TokenScopes callerScopes, CancellationToken cancellationToken)
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
        DateTimeOffset? expires = request.ExpiresAt;
        if (request.ExpiresInDays is { } days)
        {
            if (days is < 1 or > 3650)
            {
                Fail.With(ErrorCodes.InvalidRequest, "expiresInDays must be between 1 and 3650.");
            }

            expires = now.AddDays(days);
        }

        if (expires is { } e && e <= now)
        {
            Fail.With(ErrorCodes.InvalidRequest, "The expiry time is in the past.");
        }

        var secret = TokenSecret.Generate();
        var token = new ApiToken
        {
            User = owner,
            UserId = owner.Id,
            Name = name,
            Prefix = TokenSecret.DisplayPrefix(secret),
            Hash = TokenSecret.Hash(secret),
            Scopes = string.Join(',', ScopeNames.Format(scopes)),
            CreatedAt = now.UtcDateTime,
            ExpiresAt = expires?.UtcDateTime,
        };
        db.ApiTokens.Add(token);
        audit.Record("token.create", null, $"token {token.Prefix}… of {owner.Name}", new Dictionary<string, object?>
        {
            ["name"] = name,
            ["scopes"] = token.Scopes,
            ["expires"] = expires,
        });
        await db.SaveChangesAsync(cancellationToken);
        return (token, secret);
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

    public async Task<TokenInfo> RevokeAsync(Actor actor, long tokenId, CancellationToken cancellationToken)
    {
        var token = await db.ApiTokens.Include(t => t.User).FirstOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
        if (token is null || (token.UserId != actor.UserId && !actor.IsAdmin))
        {
            throw Fail.Error(ErrorCodes.TokenNotFound, $"There is no token {tokenId} of yours.");
        }

        if (token.RevokedAt is null)
        {
            await db.InTransactionWithRetryAsync(async ct =>
            {
                var tracked = await db.ApiTokens.SingleAsync(t => t.Id == tokenId, ct);
                tracked.RevokedAt = clock.GetUtcNow().UtcDateTime;
                audit.Record("token.revoke", null, $"token {tracked.Prefix}… of {token.User.Name}", new Dictionary<string, object?> { ["name"] = tracked.Name });
                await db.SaveChangesAsync(ct);
                return true;
            }, cancellationToken);
            token.RevokedAt = clock.GetUtcNow().UtcDateTime;
        }

        return ToInfo(token);
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
        token.RevokedAt is { } r ? Utc(r) : null);

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private sealed record TokenRow(long Id, long UserId, string UserName, bool IsAdmin, bool UserDisabled, string Scopes, DateTime? ExpiresAt, DateTime? RevokedAt, DateTime? LastUsedAt);
}
