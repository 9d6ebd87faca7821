using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Data;

public static class DbContextExtensions
{
    /// <summary>Saves, turning a unique-index violation into <paramref name="conflict"/> (a 409 for the caller).</summary>
    public static async Task SaveChangesUniqueAsync(this RegistryDbContext db, ErrorCode conflict, string message, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (db.Errors.IsUniqueViolation(e))
        {
            db.ChangeTracker.Clear();
            throw new RegistryException(conflict, message);
        }
    }

    /// <summary>
    /// Runs <paramref name="operation"/> in a transaction, starting over (with a clean change tracker)
    /// when it loses a race on a unique index or a concurrency token, up to a few times.
    /// </summary>
    public static async Task<T> InTransactionWithRetryAsync<T>(this RegistryDbContext db, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        var errors = db.Errors;
        for (var attempt = 1; ; attempt++)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                var result = await operation(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (DbUpdateException e) when (attempt < 4 && (e is DbUpdateConcurrencyException || errors.IsUniqueViolation(e)))
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }
        }
    }
}
