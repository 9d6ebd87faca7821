using Berth.Core.Audit;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Auth;

/// <summary>
/// First start: when there are no users yet, creates the administrator and an admin token for it: the
/// operator's secret if one is given (well-formed, see <see cref="TokenSecret"/>), else a random one; and a
/// one-time password for signing in to the web UI, which must be changed at the first sign-in.
/// Returns both secrets, or null when the server was already set up.
/// </summary>
public sealed class Bootstrapper(RegistryDbContext db, AuditTrail audit, TimeProvider clock)
{
    public const string AdminName = "admin";

    /// <summary>What the first start created: the administrator's API token and one-time password.</summary>
    public sealed record FirstStart(string Token, string Password);

    public async Task<FirstStart?> EnsureAdministratorAsync(string? secret, CancellationToken cancellationToken) =>
        await db.InTransactionWithRetryAsync(async ct =>
        {
            // A replica that loses the race to bootstrap starts over here and finds the other's administrator.
            if (await db.Users.AnyAsync(ct))
            {
                return null;
            }

            var now = clock.GetUtcNow().UtcDateTime;
            var password = PasswordHasher.GenerateOneTimePassword();
            var admin = new User
            {
                Name = AdminName,
                DisplayName = "Administrator",
                IsAdmin = true,
                CreatedAt = now,
                PasswordHash = PasswordHasher.Hash(password),
                MustChangePassword = true,
                Revision = 1,
            };
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
            return new FirstStart(tokenSecret, password);
        }, cancellationToken);
}
