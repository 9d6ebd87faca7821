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
    /// when it loses a race on a unique index or a concurrency token, or when the database aborted it to
    /// settle a conflict (serialization failure, deadlock), up to a few times.
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
            catch (Exception e) when (attempt < 4 && LostRace(errors, e))
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>
    /// The row of <typeparamref name="TEntity"/> whose (single-column) primary key is <paramref name="key"/>,
    /// read so that it stays locked until the transaction ends: a read-then-write of it (a counter, the head
    /// of a chain) cannot interleave with another transaction's. Use inside a transaction.
    /// </summary>
    public static IQueryable<TEntity> LockedRow<TEntity>(this RegistryDbContext db, object key)
        where TEntity : class
    {
        var entity = db.Model.FindEntityType(typeof(TEntity)) ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not part of the model.");
        var table = entity.GetTableName()!;
        var column = entity.FindPrimaryKey()!.Properties.Single().GetColumnName();
        // Names come from the model, never from input; the key is a parameter.
        var sql = $"SELECT * FROM \"{table}\" WHERE \"{column}\" = {{0}}{db.Dialect.ForUpdate}";
        return db.Set<TEntity>().FromSqlRaw(sql, key);
    }

    private static bool LostRace(IDatabaseErrors errors, Exception e) =>
        e is DbUpdateConcurrencyException || (e is DbUpdateException update && errors.IsUniqueViolation(update)) || errors.IsSerializationFailure(e);
}
