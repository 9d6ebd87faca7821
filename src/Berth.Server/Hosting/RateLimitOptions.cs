using System.ComponentModel.DataAnnotations;

namespace Berth.Server.Hosting;

/// <summary>
/// API rate limits (section <c>RateLimits</c>; <c>BERTH_RateLimits__…</c>): token buckets that hold up to a burst of
/// requests and refill by a number of requests every <see cref="Period"/>. Requests with a valid token count against
/// that token; requests without one (anonymous, a refused token, sign-in) against the client's address. Uploads and
/// downloads of bytes count in buckets of their own, large enough for a push of many thousands of files. The counts
/// live in each replica's memory: behind a load balancer, a client gets up to these limits from every replica.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>Off: no request is ever refused for its rate.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often each bucket refills (by its <c>…Refill</c> requests).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>API requests one token may make at once.</summary>
    [Range(1, 10_000_000)]
    public int TokenBurst { get; set; } = 3000;

    /// <summary>API requests one token may make per period, sustained.</summary>
    [Range(1, 10_000_000)]
    public int TokenRefill { get; set; } = 300;

    /// <summary>Requests without a valid token one client address may make at once (IPv6: per /64).</summary>
    [Range(1, 10_000_000)]
    public int AddressBurst { get; set; } = 1000;

    /// <summary>Requests without a valid token one client address may make per period, sustained.</summary>
    [Range(1, 10_000_000)]
    public int AddressRefill { get; set; } = 100;

    /// <summary>Upload and download requests (files, archives, upload sessions) one token or address may make at once.</summary>
    [Range(1, 10_000_000)]
    public int TransferBurst { get; set; } = 20_000;

    /// <summary>Upload and download requests one token or address may make per period, sustained.</summary>
    [Range(1, 10_000_000)]
    public int TransferRefill { get; set; } = 2000;
}
