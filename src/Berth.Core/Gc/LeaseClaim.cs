using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Gc;

/// <summary>
/// Claims a <see cref="Lease"/> row with one conditional update: of several replicas claiming at once,
/// the database lets exactly one change the row (SQLite serialises writers; PostgreSQL re-checks the
/// condition on the row the first claimer wrote, and finds it held).
/// </summary>
public static class LeaseClaim
{
    public static async Task<bool> TryClaimAsync(RegistryDbContext db, string name, string owner, DateTime now, DateTime until, CancellationToken cancellationToken)
    {
        if (!await db.Leases.AnyAsync(l => l.Name == name, cancellationToken))
        {
            db.Leases.Add(new Lease { Name = name });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException e) when (db.Errors.IsUniqueViolation(e))
            {
                // Another replica created it first; claiming below settles who holds it.
            }

            db.ChangeTracker.Clear();
        }

        var claimed = await db.Leases.Where(l => l.Name == name && (l.Until == null || l.Until <= now))
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Owner, owner).SetProperty(l => l.Until, until), cancellationToken);
        return claimed == 1;
    }

    public static Task ReleaseAsync(RegistryDbContext db, string name, string owner, CancellationToken cancellationToken) =>
        db.Leases.Where(l => l.Name == name && l.Owner == owner)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Owner, (string?)null).SetProperty(l => l.Until, (DateTime?)null), cancellationToken);
}
