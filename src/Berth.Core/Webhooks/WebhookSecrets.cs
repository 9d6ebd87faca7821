using System.Security.Cryptography;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Webhooks;

/// <summary>
/// Webhook signing secrets at rest: encrypted with the server's ASP.NET Core data-protection keys, which live in the
/// database (<c>data_protection_keys</c>, shared by every replica) and are themselves encrypted with the server's key
/// file or certificate. A copy of the database alone reveals no secret.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Berth.Webhooks.Secret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    /// <summary>The secret to sign a call to <paramref name="hook"/> with.</summary>
    /// <exception cref="CryptographicException">The key that encrypted it is not in the key ring (or cannot be decrypted).</exception>
    public string Reveal(Webhook hook) =>
        hook.ProtectedSecret is { } stored ? _protector.Unprotect(stored)
        : hook.LegacySecret ?? throw new CryptographicException($"Webhook #{hook.Id} has no secret.");

    /// <summary>
    /// Encrypts the secrets an older Berth kept in plain text and clears them (at start-up; every replica may run it at
    /// once: each row is taken by a conditional update). Returns how many it encrypted.
    /// </summary>
    public async Task<int> EncryptLegacySecretsAsync(RegistryDbContext db, CancellationToken cancellationToken)
    {
        var legacy = await db.Webhooks.AsNoTracking().Where(w => w.LegacySecret != null).Select(w => new { w.Id, w.LegacySecret }).ToListAsync(cancellationToken);
        var count = 0;
        foreach (var row in legacy)
        {
            var plain = row.LegacySecret!;
            var protectedSecret = Protect(plain);
            count += await db.Webhooks.Where(w => w.Id == row.Id && w.LegacySecret == plain)
                .ExecuteUpdateAsync(s => s.SetProperty(w => w.ProtectedSecret, protectedSecret).SetProperty(w => w.LegacySecret, (string?)null), cancellationToken);
        }

        return count;
    }
}
