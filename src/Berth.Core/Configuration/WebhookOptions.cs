using System.ComponentModel.DataAnnotations;

namespace Berth.Core.Configuration;

/// <summary>Webhook delivery (section <c>Webhooks</c>; environment variables <c>BERTH_Webhooks__…</c>).</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>How long one attempt may take, connecting and reading the response included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts per delivery before it is marked failed.</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait before the second attempt; it doubles with each further attempt (with jitter), up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    [Range(typeof(TimeSpan), "00:00:00.010", "7.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A webhook whose deliveries failed this many times in a row (each after all its attempts) is disabled.</summary>
    [Range(1, 10_000)]
    public int DisableAfterFailures { get; set; } = 5;

    /// <summary>Attempts in flight at once in this process (a receiver that hangs holds one slot until its timeout).</summary>
    [Range(1, 1024)]
    public int Concurrency { get; set; } = 32;

    /// <summary>How often the worker looks for due deliveries when nothing wakes it (commits on this replica do).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Networks webhooks may call although they are refused by default (CIDR or single addresses, e.g. <c>10.0.0.0/8</c>,
    /// <c>127.0.0.1</c>): loopback, private (RFC 1918), carrier-grade NAT, unique-local and reserved ranges. Where an
    /// address is in networks of this list and of <see cref="DeniedNetworks"/>, the most specific network decides (denied
    /// wins a tie), so <c>DeniedNetworks=0.0.0.0/0,::/0</c> with <c>AllowedNetworks=10.0.0.0/8</c> restricts webhooks to
    /// 10.0.0.0/8. Link-local addresses (cloud metadata services), unspecified, multicast and broadcast addresses stay
    /// refused whatever is listed. See docs/events.md.
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>Networks webhooks may never call, on top of the built-in rules (see <see cref="AllowedNetworks"/>).</summary>
    public List<string> DeniedNetworks { get; set; } = [];

    /// <summary>Whether the worker runs in this process (turn off on replicas that should only serve requests).</summary>
    public bool DeliveryEnabled { get; set; } = true;
}
