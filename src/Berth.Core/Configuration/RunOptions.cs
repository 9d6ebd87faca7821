using System.ComponentModel.DataAnnotations;

namespace Berth.Core.Configuration;

/// <summary>Training runs (section <c>Runs</c>; environment variables <c>BERTH_Runs__…</c>). See docs/runs.md.</summary>
public sealed class RunOptions
{
    public const string SectionName = "Runs";

    /// <summary>A running run with no heartbeat (or metric batch) for this long becomes <c>crashed</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often each server looks for runs whose heartbeat timed out.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most points one metric batch may hold; a larger batch is refused (<c>batch_too_large</c>) and nothing of it stored.</summary>
    [Range(1, 1_000_000)]
    public int MaxBatchPoints { get; set; } = 10_000;

    /// <summary>The largest metric batch body, in bytes; a larger one is refused (<c>batch_too_large</c>) before it is read.</summary>
    [Range(1024, 32 * 1024 * 1024)]
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;
}
