using Berth.Contracts.Errors;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Idempotency;

/// <summary>
/// Remembers the outcome of creating calls sent with an <c>Idempotency-Key</c>: the first request
/// claims the key, later ones with the same key and the same request get the stored response, a
/// different request with the same key is refused, and a retry while the first is still running
/// gets 409. Outcomes of server errors are not kept, so those can be retried. Stored response bodies are encrypted
/// with the data-protection keys: some carry secrets (a new token, a one-time password).
/// </summary>
public sealed class IdempotencyStore(RegistryDbContext db, IOptions<RegistryOptions> options, TimeProvider clock, IDataProtectionProvider protection)
{
    public const int MaxKeyLength = 255;

    private readonly IDataProtector _protector = protection.CreateProtector("Berth.Idempotency.Response.v1");

    /// <summary>Claims the key. Returns null when this request is the first, else the stored record to replay.</summary>
    public async Task<IdempotencyRecord?> BeginAsync(long userId, string key, string requestHash, CancellationToken cancellationToken)
    {
        if (key.Length is 0 or > MaxKeyLength || key.Any(char.IsControl))
        {
            Fail.With(ErrorCodes.InvalidRequest, $"An Idempotency-Key must be 1-{MaxKeyLength} printable characters.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        db.IdempotencyRecords.Add(new IdempotencyRecord
        {
            UserId = userId,
            Key = key,
            RequestHash = requestHash,
            CreatedAt = now,
            ExpiresAt = now + options.Value.IdempotencyTtl,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
            return null;
        }
        catch (DbUpdateException e) when (db.Errors.IsUniqueViolation(e))
        {
            db.ChangeTracker.Clear();
        }

        var existing = await db.IdempotencyRecords.AsNoTracking().FirstOrDefaultAsync(r => r.UserId == userId && r.Key == key, cancellationToken);
        if (existing is null || existing.ExpiresAt <= now)
        {
            await db.IdempotencyRecords.Where(r => r.UserId == userId && r.Key == key && r.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
            return await BeginAsync(userId, key, requestHash, cancellationToken);
        }

        if (existing.RequestHash != requestHash)
        {
            Fail.With(ErrorCodes.IdempotencyKeyReused, "This Idempotency-Key was used for a different request; use a new key for a new request.");
        }

        if (existing.StatusCode is null)
        {
            Fail.With(ErrorCodes.IdempotencyInProgress, "The first request with this Idempotency-Key is still running; retry in a moment.");
        }

        return existing;
    }

    public async Task CompleteAsync(long userId, string key, int status, string? contentType, string? location, string? etag, byte[] body, CancellationToken cancellationToken)
    {
        await db.IdempotencyRecords.Where(r => r.UserId == userId && r.Key == key)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.StatusCode, status)
                .SetProperty(r => r.ContentType, contentType)
                .SetProperty(r => r.Location, location)
                .SetProperty(r => r.ETag, etag)
                .SetProperty(r => r.Body, body.Length == 0 ? body : _protector.Protect(body)), cancellationToken);
    }

    /// <summary>The stored response's body, decrypted (a JSON body an older Berth stored in plain text is replayed as it is).</summary>
    public byte[] Body(IdempotencyRecord record)
    {
        if (record.Body is not { Length: > 0 } body)
        {
            return [];
        }

        try
        {
            return _protector.Unprotect(body);
        }
        catch (System.Security.Cryptography.CryptographicException) when (body[0] == (byte)'{')
        {
            return body;
        }
    }

    /// <summary>Forgets a claim whose request failed on the server's side, so the client can retry it.</summary>
    public async Task AbandonAsync(long userId, string key, CancellationToken cancellationToken) =>
        await db.IdempotencyRecords.Where(r => r.UserId == userId && r.Key == key && r.StatusCode == null).ExecuteDeleteAsync(cancellationToken);
}
