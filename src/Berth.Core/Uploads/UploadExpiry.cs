using Berth.Core.Blobs;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Uploads;

/// <summary>Removes upload sessions that saw no activity for their lifetime, with their data.</summary>
public sealed class UploadExpiry(IBlobStore store, UploadHashCache hashes)
{
    /// <summary>Removes (or with <paramref name="dryRun"/> only counts) the sessions expired at <paramref name="now"/>.</summary>
    public async Task<int> ExpireAsync(RegistryDbContext db, DateTime now, bool dryRun, CancellationToken cancellationToken)
    {
        var expired = await db.UploadSessions.Where(s => s.ExpiresAt <= now).Select(s => s.Id).ToListAsync(cancellationToken);
        if (dryRun)
        {
            return expired.Count;
        }

        foreach (var id in expired)
        {
            if (UploadId.TryParse(id, out var uploadId))
            {
                hashes.Remove(id);
                await store.DeleteUploadAsync(uploadId, cancellationToken);
            }

            await db.UploadSessions.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
        }

        return expired.Count;
    }
}
