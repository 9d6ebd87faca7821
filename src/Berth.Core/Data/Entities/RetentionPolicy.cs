namespace Berth.Core.Data.Entities;

/// <summary>
/// Which ready versions garbage collection deletes (softly) in a namespace, or in one model (whose own
/// policy replaces the namespace's): everything older than <see cref="OlderThan"/> except the newest
/// <see cref="KeepLast"/>, versions in <see cref="KeepStages"/> and, with <see cref="KeepAliased"/>, versions
/// an alias points at. With <see cref="RunsOlderThan"/>, also the training runs that ended longer ago and produced no version.
/// </summary>
public sealed class RetentionPolicy
{
    public long NamespaceId { get; set; }

    /// <summary>The model the policy is for; 0 for the namespace's policy.</summary>
    public long ModelId { get; set; }
    public int? KeepLast { get; set; }

    /// <summary>Comma-separated stage names.</summary>
    public string? KeepStages { get; set; }
    public bool KeepAliased { get; set; }
    public TimeSpan OlderThan { get; set; }

    /// <summary>Runs that ended longer ago than this and that no version names are deleted too; null leaves runs alone.</summary>
    public TimeSpan? RunsOlderThan { get; set; }
    public DateTime UpdatedAt { get; set; }
}
