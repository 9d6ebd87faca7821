using Berth.Core.Blobs;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Uploads;

/// <summary>
/// Removes upload sessions that saw no activity for their lifetime, with their data, and the writer-lease rows that
/// replicas which died left behind. A session whose writer lease is held (a request is still streaming into it) stays.
/// Also forgets uploads into models (<see cref="Data.Entities.ModelUpload"/>) older than the session lifetime.
/// </summary>
public sealed class UploadExpiry(IBlobStore store, UploadHashCache hashes, UploadLeases leases, IOptions<RegistryOptions> options)
{
    /// <summary>Removes (or with <paramref name="dryRun"/> only counts) the sessions expired at <paramref name="now"/>.</summary>
    public async Task<int> ExpireAsync(RegistryDbContext db, DateTime now, bool dryRun, CancellationToken cancellationToken)
    {
        var expired = await db.UploadSessions.Where(s => s.ExpiresAt <= now).Select(s => s.Id).ToListAsync(cancellationToken);
        if (dryRun)
        {
            return expired.Count;
        }

        var forget = now - options.Value.UploadSessionTtl;
        await db.ModelUploads.Where(u => u.UploadedAt <= forget).ExecuteDeleteAsync(cancellationToken);

        var removed = 0;
        foreach (var id in expired)
        {
            if (UploadId.TryParse(id, out var uploadId))
            {
                // Like a writer, expiry holds the upload while it deletes it, so it never deletes under a running request.
                await using var lease = await leases.TryClaimAsync(db, uploadId, cancellationToken);
                if (lease is null)
                {
                    continue;
                }

                // Conditional: a request may have used the session between the query above and the claim. Data left
                // by a crash after this is an upload without a session, which maintenance removes.
                if (await db.UploadSessions.Where(s => s.Id == id && s.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken) == 0)
                {
                    continue;
                }

                hashes.Remove(id);
                await store.DeleteUploadAsync(uploadId, cancellationToken);
            }
            else
            {
                await db.UploadSessions.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
            }

            removed++;
        }

        await leases.DeleteLapsedAsync(db, now, cancellationToken);
        return removed;
    }
}
