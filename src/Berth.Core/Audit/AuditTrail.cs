using Berth.Core.Data;
using Berth.Core.Data.Entities;

namespace Berth.Core.Audit;

/// <summary>
/// Adds audit entries to the current unit of work. The entries are chained and saved by
/// <see cref="AuditChainInterceptor"/> in the same transaction as the change they describe, so an entry
/// exists exactly when its change committed.
/// </summary>
public sealed class AuditTrail(RegistryDbContext db, AuditContext context, TimeProvider clock)
{
    /// <param name="action">What happened, as <c>noun.verb</c> (e.g. <c>version.create</c>, <c>member.add</c>).</param>
    /// <param name="ns">The namespace concerned, if any.</param>
    /// <param name="target">What it happened to (e.g. <c>acme/fraud:3</c>, <c>user alice</c>).</param>
    /// <param name="details">A before/after summary; values are written as JSON.</param>
    private long pending;

    public void Record(string action, string? ns, string? target, IReadOnlyDictionary<string, object?>? details = null)
    {
        var actor = context.Actor;
        db.AuditLog.Add(new AuditEntry
        {
            // A placeholder key, unique within this unit of work; the chain interceptor assigns the position.
            Id = --pending,
            At = Truncate(clock.GetUtcNow().UtcDateTime),
            ActorId = actor.IsUser ? actor.UserId : null,
            Actor = actor.Name,
            Action = action,
            Namespace = ns,
            Target = target,
            Details = details is null || details.Count == 0 ? null : AuditDetails.ToJson(details),
            ClientAddress = context.ClientAddress,
            RequestId = context.RequestId,
            PreviousHash = "",
            Hash = "",
        });
    }

    /// <summary>Microseconds: what every supported database keeps, so the hash of a stored entry recomputes.</summary>
    private static DateTime Truncate(DateTime at) => new(at.Ticks - at.Ticks % 10, DateTimeKind.Utc);
}
