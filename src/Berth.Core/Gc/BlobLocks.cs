using System.Buffers.Binary;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Gc;

/// <summary>
/// Serialises, per digest, the two things that must never interleave: an upload putting bytes in place
/// and writing (or reviving) their row, and garbage collection deleting bytes. Both run inside a
/// transaction that first takes this lock, so the collector can never delete bytes that an upload has
/// just re-used, whether or not the blob has a row yet.
/// </summary>
public static class BlobLocks
{
    /// <summary>Takes the digest's lock until the current transaction ends. Call inside a transaction.</summary>
    public static async Task LockAsync(RegistryDbContext db, Digest digest, CancellationToken cancellationToken)
    {
        var sql = db.Dialect.KeyLock;
        if (sql.Length == 0)
        {
            return;
        }

        var key = BinaryPrimitives.ReadInt64BigEndian(Convert.FromHexString(digest.Hex.AsSpan(0, 16)));
        await db.Database.ExecuteSqlRawAsync(sql, [key], cancellationToken);
    }
}
