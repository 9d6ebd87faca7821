using System.Threading.Channels;
using Berth.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Berth.Core.Insight.Service;

/// <summary>
/// This server's hand-off of committed versions to its insight workers: a bounded queue of version ids. A commit never
/// waits on it: when it is full the version's pending row stays in the database, where a worker finds it when it polls.
/// </summary>
public sealed class InsightQueue(IOptions<InsightOptions> options)
{
    private readonly Channel<long> _channel = Channel.CreateBounded<long>(new BoundedChannelOptions(options.Value.QueueCapacity)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = false,
        SingleWriter = false,
    });

    /// <summary>Raised when a worker finished a version (its id and state): tests wait on it instead of polling.</summary>
    public event Action<long, string>? Completed;

    public ChannelReader<long> Reader => _channel.Reader;

    /// <summary>Offers a committed version to the workers; false when the queue is full (the row waits for a poll).</summary>
    public bool Offer(long versionId) => _channel.Writer.TryWrite(versionId);

    internal void RaiseCompleted(long versionId, string state) => Completed?.Invoke(versionId, state);
}
