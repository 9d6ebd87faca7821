using System.ComponentModel.DataAnnotations;

namespace Berth.Core.Configuration;

/// <summary>Model insight (section <c>Insight</c>; environment variables <c>BERTH_Insight__…</c>). See docs/insight.md.</summary>
public sealed class InsightOptions
{
    public const string SectionName = "Insight";

    /// <summary>How many versions each server reads at once.</summary>
    [Range(1, 16)]
    public int Workers { get; set; } = 1;

    /// <summary>
    /// How many committed versions wait in each server's memory for a worker; past that, a commit only leaves its row
    /// pending, which a worker finds when it next looks (every <see cref="PollInterval"/>): nothing is lost, a push never waits.
    /// </summary>
    [Range(1, 100_000)]
    public int QueueCapacity { get; set; } = 256;

    /// <summary>How often a worker looks for pending versions (those queued by other servers, or that did not fit in the queue).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a worker holds a version; a server that dies while reading releases it after this.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest the reading of one version may take; it then fails with a reason.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often a version whose reading broke off (the store unreachable, a server that died) is tried before it fails.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;
}
