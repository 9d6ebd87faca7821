using System.ComponentModel.DataAnnotations;

namespace Berth.Core.Configuration;

/// <summary>The event stream (section <c>Events</c>; environment variables <c>BERTH_Events__…</c>).</summary>
public sealed class EventStreamOptions
{
    public const string SectionName = "Events";

    /// <summary>A comment line on an idle stream this often, so proxies and clients see the connection is alive.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often an open stream checks its reader again: a disabled user or revoked token ends it, lost roles narrow it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan AccessCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a stream looks for events committed on other replicas (commits on this one wake it at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
