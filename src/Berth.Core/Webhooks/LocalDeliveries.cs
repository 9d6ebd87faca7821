using System.Collections.Concurrent;
using Berth.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Berth.Core.Webhooks;

/// <summary>
/// The hand-off from this server's commits to its own delivery worker. Deliveries queued by a commit here are
/// written already leased to this server (<see cref="ReplicaId"/>, until <see cref="LeaseUntil"/>), so no other
/// replica takes them and the worker needs no claiming write: after the commit their ids wait here. If this server
/// dies first, the lease runs out and any replica claims them from the database as usual.
/// </summary>
public sealed class LocalDeliveries(IOptions<WebhookOptions> options)
{
    private readonly ConcurrentQueue<long> _ids = new();

    /// <summary>False when this server does not deliver (<see cref="WebhookOptions.DeliveryEnabled"/>): its commits leave deliveries unleased.</summary>
    public bool Enabled { get; } = options.Value.DeliveryEnabled;

    public Guid ReplicaId { get; } = Guid.NewGuid();

    /// <summary>How long a lease lasts: one attempt's timeout and a margin for the time it waits for a slot.</summary>
    public TimeSpan Lease { get; } = options.Value.Timeout + TimeSpan.FromSeconds(Math.Max(5, options.Value.Timeout.TotalSeconds));

    public DateTime LeaseUntil(DateTime now) => now + Lease;

    public void Add(IEnumerable<long> ids)
    {
        foreach (var id in ids)
        {
            _ids.Enqueue(id);
        }
    }

    public List<long> Take(int count)
    {
        var taken = new List<long>(Math.Min(count, _ids.Count));
        while (taken.Count < count && _ids.TryDequeue(out var id))
        {
            taken.Add(id);
        }

        return taken;
    }
}
