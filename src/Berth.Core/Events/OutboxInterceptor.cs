using System.Data.Common;
using Berth.Contracts.Dtos;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Berth.Core.Events;

/// <summary>
/// Numbers the events of a unit of work from the <see cref="EventHead"/> row (updating it orders concurrent writers,
/// so ids become visible in order) and queues one delivery per matching enabled webhook, all in the change's
/// transaction. When that transaction commits, it wakes this process's event readers.
/// </summary>
public sealed class OutboxInterceptor : SaveChangesInterceptor, IDbTransactionInterceptor
{
    public const int HeadId = 1;

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is RegistryDbContext db && NewEvents(db) is { Count: > 0 } added)
        {
            var head = await db.LockedRow<EventHead>(HeadId).SingleOrDefaultAsync(cancellationToken);
            var namespaces = added.Select(e => e.NamespaceId).OfType<long>().Distinct().ToList();
            var hooks = namespaces.Count == 0 ? [] : await Subscribers(db, namespaces).ToListAsync(cancellationToken);
            Append(db, head, added, hooks);
        }

        return result;
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is RegistryDbContext db && NewEvents(db) is { Count: > 0 } added)
        {
            var head = db.LockedRow<EventHead>(HeadId).SingleOrDefault();
            var namespaces = added.Select(e => e.NamespaceId).OfType<long>().Distinct().ToList();
            var hooks = namespaces.Count == 0 ? [] : Subscribers(db, namespaces).ToList();
            Append(db, head, added, hooks);
        }

        return result;
    }

    // A new transaction starts clean: a unit of work that failed without a rollback (the transaction only
    // disposed) must not hand its never-committed deliveries over with the next commit of this pooled context.
    public ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        Forget(eventData.Context);
        return result;
    }

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Announce(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Announce(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    private static List<EventRecord> NewEvents(RegistryDbContext db)
    {
        var added = db.ChangeTracker.Entries<EventRecord>().Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        if (added.Count > 0 && db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Events must be saved inside a transaction (use InTransactionWithRetryAsync).");
        }

        return added;
    }

    private static IQueryable<Subscriber> Subscribers(RegistryDbContext db, List<long> namespaces) =>
        db.Webhooks.AsNoTracking()
            .Where(w => w.Enabled && namespaces.Contains(w.NamespaceId))
            .Select(w => new Subscriber(w.Id, w.NamespaceId, w.ModelId, w.Events));

    private static void Append(RegistryDbContext db, EventHead? head, List<EventRecord> added, List<Subscriber> hooks)
    {
        if (head is null)
        {
            head = new EventHead { Id = HeadId, LastId = 0 };
            db.EventHeads.Add(head);
        }

        // Deliveries start leased to this server's worker, which gets them straight after the commit (LocalDeliveries).
        var local = db.GetApplicationService<LocalDeliveries>() is { Enabled: true } l ? l : null;
        foreach (var record in added)
        {
            record.Id = ++head.LastId;
            foreach (var hook in hooks)
            {
                if (hook.Matches(record))
                {
                    var delivery = new WebhookDelivery
                    {
                        WebhookId = hook.Id,
                        EventId = record.Id,
                        EventType = record.Type,
                        State = DeliveryStates.Pending,
                        CreatedAt = record.At,
                        NextAttemptAt = record.At,
                        LeaseOwner = local?.ReplicaId,
                        LeaseUntil = local?.LeaseUntil(DateTime.UtcNow),
                    };
                    db.WebhookDeliveries.Add(delivery);
                    if (local is not null)
                    {
                        db.DeliveriesToHandOver.Add(delivery);
                    }
                }
            }
        }

        db.EventsToAnnounce = true;
    }

    private static void Announce(DbContext? context)
    {
        if (context is RegistryDbContext { EventsToAnnounce: true } db)
        {
            db.EventsToAnnounce = false;
            if (db.DeliveriesToHandOver.Count > 0)
            {
                db.GetApplicationService<LocalDeliveries>()?.Add(db.DeliveriesToHandOver.Select(d => d.Id));
                db.DeliveriesToHandOver.Clear();
            }

            db.GetApplicationService<EventNotifier>()?.Pulse();
        }
    }

    private static void Forget(DbContext? context)
    {
        if (context is RegistryDbContext db)
        {
            db.EventsToAnnounce = false;
            db.DeliveriesToHandOver.Clear();
        }
    }

    private sealed record Subscriber(long Id, long NamespaceId, long? ModelId, string Events)
    {
        public bool Matches(EventRecord record) =>
            record.NamespaceId == NamespaceId
            && (ModelId is null || record.ModelId == ModelId)
            && WebhookEvents.Includes(Events, record.Type);
    }
}
