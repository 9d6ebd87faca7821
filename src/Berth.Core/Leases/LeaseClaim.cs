using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Leases;

/// <summary>
/// Claims a <see cref="Lease"/> row with one conditional update: of several replicas claiming at once,
/// the database lets exactly one change the row (SQLite serialises writers; PostgreSQL re-checks the
/// condition on the row the first claimer wrote, and finds it held).
/// </summary>
public static class LeaseClaim
{
    public static async Task<bool> TryClaimAsync(RegistryDbContext db, string name, string owner, DateTime now, DateTime until, CancellationToken cancellationToken)
    {
        // Twice at most: a lapsed row may be deleted (upload leases are) between finding it and claiming it.
        for (var attempt = 1; ; attempt++)
        {
            if (!await db.Leases.AnyAsync(l => l.Name == name, cancellationToken))
            {
                db.Leases.Add(new Lease { Name = name, Owner = owner, Until = until });
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                    return true;
                }
                catch (DbUpdateException e) when (db.Errors.IsUniqueViolation(e))
                {
                    // Another replica created it first; claiming below settles who holds it.
                }
                finally
                {
                    db.ChangeTracker.Clear();
                }
            }

            var claimed = await db.Leases.Where(l => l.Name == name && (l.Until == null || l.Until <= now))
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.Owner, owner).SetProperty(l => l.Until, until), cancellationToken);
            if (claimed == 1)
            {
                return true;
            }

            if (attempt == 2 || await db.Leases.AnyAsync(l => l.Name == name, cancellationToken))
            {
                return false;
            }
        }
    }
}
