using Berth.Contracts.Errors;
using Berth.Core.Data;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>Optimistic concurrency: If-Match against the revision, and a 412 when a concurrent write won.</summary>
internal static class Revisions
{
    public static void Check(long? expected, long actual, string what)
    {
        if (expected is { } e && e != actual)
        {
            Fail.With(ErrorCodes.PreconditionFailed, $"{what} is at revision {actual}, not {e}: read it again and retry.", new Dictionary<string, object?> { ["revision"] = actual });
        }
    }

    public static async Task SaveAsync(RegistryDbContext db, string what, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            throw new RegistryException(ErrorCodes.PreconditionFailed, $"{what} was changed by another request at the same time: read it again and retry.");
        }
    }
}
