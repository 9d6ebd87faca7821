using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Auth;

/// <summary>
/// First start: when there are no users yet, creates the administrator and an admin token for it.
/// Returns the secret (shown once by the caller) or null when the server was already set up.
/// </summary>
public sealed class Bootstrapper(RegistryDbContext db, TimeProvider clock)
{
    public const string AdminName = "admin";

    public async Task<string?> EnsureAdministratorAsync(CancellationToken cancellationToken)
    {
        if (await db.Users.AnyAsync(cancellationToken))
        {
            return null;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var admin = new User { Name = AdminName, DisplayName = "Administrator", IsAdmin = true, CreatedAt = now };
        var secret = TokenSecret.Generate();
        db.Users.Add(admin);
        db.ApiTokens.Add(new ApiToken
        {
            User = admin,
            Name = "bootstrap",
            Prefix = TokenSecret.DisplayPrefix(secret),
            Hash = TokenSecret.Hash(secret),
            Scopes = string.Join(',', ScopeNames.Format(TokenScopes.All)),
            CreatedAt = now,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (db.Errors.IsUniqueViolation(e))
        {
            // Another replica bootstrapped at the same moment; its token is the one.
            db.ChangeTracker.Clear();
            return null;
        }

        return secret;
    }
}
