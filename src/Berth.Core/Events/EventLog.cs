using Berth.Core.Audit;
using Berth.Core.Data;
using Berth.Core.Data.Entities;

namespace Berth.Core.Events;

/// <summary>What an event is about: a namespace, and usually a model in it.</summary>
public readonly record struct EventSubject(long NamespaceId, string Namespace, long? ModelId = null, string? Model = null)
{
    /// <summary>A model's events (its <see cref="RegisteredModel.Namespace"/> must be loaded).</summary>
    public static EventSubject Of(RegisteredModel model) => new(model.NamespaceId, model.Namespace.Name, model.Id, $"{model.Namespace.Name}/{model.Name}");

    public static EventSubject Of(RegistryNamespace ns) => new(ns.Id, ns.Name);
}

/// <summary>
/// Adds events to the current unit of work. <see cref="OutboxInterceptor"/> numbers them and queues their webhook
/// deliveries when the unit of work is saved, in the same transaction as the change: an event exists exactly when
/// its change committed.
/// </summary>
public sealed class EventLog(RegistryDbContext db, AuditContext context, TimeProvider clock)
{
    private long _pending;

    public void Publish(
        string type,
        EventSubject subject,
        int? version = null,
        IReadOnlyDictionary<string, object?>? before = null,
        IReadOnlyDictionary<string, object?>? after = null,
        IReadOnlyDictionary<string, object?>? data = null)
    {
        var at = clock.GetUtcNow().UtcDateTime;
        db.Events.Add(new EventRecord
        {
            // A placeholder key, unique within this unit of work; the outbox interceptor assigns the position.
            Id = --_pending,
            At = new DateTime(at.Ticks - at.Ticks % 10, DateTimeKind.Utc),
            Type = type,
            Actor = context.Actor.Name,
            NamespaceId = subject.NamespaceId,
            Namespace = subject.Namespace,
            ModelId = subject.ModelId,
            Model = subject.Model,
            Version = version,
            Before = Json(before),
            After = Json(after),
            Data = Json(data),
        });
    }

    private static string? Json(IReadOnlyDictionary<string, object?>? values) => values is null || values.Count == 0 ? null : AuditDetails.ToJson(values);
}
