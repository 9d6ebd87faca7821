namespace Berth.Contracts.Dtos;

/// <summary>
/// A retention policy of a namespace (<c>Model</c> null) or of one model: garbage collection deletes the
/// ready versions older than <c>OlderThan</c>, except the newest <c>KeepLast</c>, those in <c>KeepStages</c>,
/// those an alias points at and those live or deploying in an environment. A model's own policy replaces its
/// namespace's. <c>KeepAliased</c> is kept for compatibility: aliased versions are always kept. <c>RunsOlderThan</c>
/// (null: runs are left alone): garbage collection also deletes the training runs that ended longer ago than that and
/// that no version names in its lineage (a run that produced no version).
/// </summary>
public sealed record RetentionPolicyInfo(
    string Namespace,
    string? Model,
    int? KeepLast,
    IReadOnlyList<string> KeepStages,
    bool KeepAliased,
    TimeSpan OlderThan,
    DateTimeOffset UpdatedAt,
    TimeSpan? RunsOlderThan = null);

public sealed record SetRetentionRequest(
    TimeSpan OlderThan,
    int? KeepLast = null,
    IReadOnlyList<string>? KeepStages = null,
    bool KeepAliased = false,
    TimeSpan? RunsOlderThan = null);

/// <summary>
/// A training run a retention policy deletes (or would): it ended (<c>EndedAt</c>) longer ago than the policy's
/// <c>RunsOlderThan</c> and no version names it in its lineage. <c>Model</c> is <c>namespace/model</c>.
/// </summary>
public sealed record RetentionRun(string Model, string Id, string? Name, string Status, DateTimeOffset StartedAt, DateTimeOffset? EndedAt)
{
    /// <summary><c>namespace/model/id</c>, as <c>berth run start</c> prints it.</summary>
    public string Reference => $"{Model}/{Id}";
}

/// <summary>
/// A version a retention policy considered (old enough and not among the newest <c>KeepLast</c>), and why it is
/// deleted or kept: <c>Reasons</c> names every protection that keeps it (live or deploying in an environment, an
/// alias, a kept stage), or the rule that deletes it. <c>Bytes</c> is the version's total size, shared blobs included.
/// </summary>
public sealed record RetentionCandidate(string Model, int Version, string? SemVer, DateTimeOffset CreatedAt, string? Stage, long Bytes, IReadOnlyList<string> Reasons)
{
    /// <summary><c>namespace/model:number</c>.</summary>
    public string Reference => $"{Model}:{Version}";
}

/// <summary>
/// What the retention policies in effect would do now (the dry run): <c>Versions</c> are deleted, <c>Kept</c> are
/// old enough but protected. <c>FreedBytes</c> is what deleting <c>Versions</c> frees once they are purged: the
/// blobs that no ready or pending version outside them references, each counted once. <c>Runs</c>: the training runs
/// deleted (ended long enough ago, and no version names them).
/// </summary>
public sealed record RetentionPreview(IReadOnlyList<RetentionCandidate> Versions, IReadOnlyList<RetentionCandidate> Kept, long FreedBytes, IReadOnlyList<RetentionRun>? Runs = null);
