using Berth.Core.Audit;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Auth;

/// <summary>
/// First start: when there are no users yet, creates the administrator and an admin token for it: the
/// operator's secret if one is given (well-formed, see <see cref="TokenSecret"/>), else a random one.
/// Returns the secret or null when the server was already set up.
/// </summary>
public sealed class Bootstrapper(RegistryDbContext db, AuditTrail audit, TimeProvider clock)
{
    public const string AdminName = "admin";

    public async Task<string?> EnsureAdministratorAsync(string? secret, CancellationToken cancellationToken) =>
        await db.InTransactionWithRetryAsync(async ct =>
        {
            // A replica that loses the race to bootstrap starts over here and finds the other's administrator.
            if (await db.Users.AnyAsync(ct))
            {
                return null;
            }

            var now = clock.GetUtcNow().UtcDateTime;
            var admin = new User { Name = AdminName, DisplayName = "Administrator", IsAdmin = true, CreatedAt = now };
            var tokenSecret = secret ?? TokenSecret.Generate();
            var token = new ApiToken
            {
                User = admin,
                Name = "bootstrap",
                Prefix = TokenSecret.DisplayPrefix(tokenSecret),
                Hash = TokenSecret.Hash(tokenSecret),
                Scopes = string.Join(',', ScopeNames.Format(TokenScopes.All)),
                CreatedAt = now,
            };
            db.Users.Add(admin);
            db.ApiTokens.Add(token);
            audit.Record("user.create", null, $"user {AdminName}", new Dictionary<string, object?> { ["admin"] = true, ["reason"] = "first start" });
            audit.Record("token.create", null, $"token {token.Prefix}… of {AdminName}", new Dictionary<string, object?> { ["name"] = token.Name, ["scopes"] = token.Scopes });
            await db.SaveChangesAsync(ct);
            return tokenSecret;
        }, cancellationToken);
}
