using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Berth.Core.Audit;

/// <summary>
/// Links new audit entries into the hash chain as they are saved: each gets the next position and the
/// hash of the entry before it, and the chain's head row moves on. The head is read and written inside
/// the caller's transaction, and read locked (<see cref="DbContextExtensions.LockedRow{TEntity}"/>: SQLite has one
/// writer anyway, PostgreSQL locks the row until the transaction ends), so concurrent writers queue up
/// behind each other instead of forking the chain. A transaction that also locks other rows should lock
/// them before it first saves audit entries; the other order can deadlock with a transaction that did
/// (PostgreSQL then aborts one of them, and <see cref="DbContextExtensions.InTransactionWithRetryAsync{T}"/>
/// runs it again). Saving audit entries outside a transaction is a programming error.
/// </summary>
public sealed class AuditChainInterceptor : SaveChangesInterceptor
{
    public const int HeadId = 1;

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is RegistryDbContext context && NewEntries(context) is { Count: > 0 } added)
        {
            var head = await context.LockedRow<AuditHead>(HeadId).SingleOrDefaultAsync(cancellationToken);
            Chain(context, head, added);
        }

        return result;
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is RegistryDbContext context && NewEntries(context) is { Count: > 0 } added)
        {
            Chain(context, context.LockedRow<AuditHead>(HeadId).SingleOrDefault(), added);
        }

        return result;
    }

    private static List<AuditEntry> NewEntries(DbContext context)
    {
        var added = context.ChangeTracker.Entries<AuditEntry>().Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        if (added.Count > 0 && context.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Audit entries must be saved inside a transaction (use InTransactionWithRetryAsync).");
        }

        return added;
    }

    private static void Chain(DbContext context, AuditHead? head, List<AuditEntry> added)
    {
        if (head is null)
        {
            head = new AuditHead { Id = HeadId, LastId = 0, LastHash = AuditHash.Genesis };
            context.Set<AuditHead>().Add(head);
        }

        foreach (var entry in added)
        {
            entry.Id = head.LastId + 1;
            entry.PreviousHash = head.LastHash;
            entry.Hash = AuditHash.Compute(entry);
            head.LastId = entry.Id;
            head.LastHash = entry.Hash;
        }
    }
}
