namespace Berth.Contracts.Dtos;

/// <summary>
/// A retention policy of a namespace (<c>Model</c> null) or of one model: garbage collection deletes the
/// ready versions older than <c>OlderThan</c>, except the newest <c>KeepLast</c>, those in <c>KeepStages</c>
/// and (with <c>KeepAliased</c>) those an alias points at. A model's own policy replaces its namespace's.
/// </summary>
public sealed record RetentionPolicyInfo(
    string Namespace,
    string? Model,
    int? KeepLast,
    IReadOnlyList<string> KeepStages,
    bool KeepAliased,
    TimeSpan OlderThan,
    DateTimeOffset UpdatedAt);

public sealed record SetRetentionRequest(
    TimeSpan OlderThan,
    int? KeepLast = null,
    IReadOnlyList<string>? KeepStages = null,
    bool KeepAliased = false);

/// <summary>A version a retention policy would delete now.</summary>
public sealed record RetentionCandidate(string Model, int Version, string? SemVer, DateTimeOffset CreatedAt, string? Stage, long Bytes);

/// <summary>What the retention policies in effect would delete now (the dry run).</summary>
public sealed record RetentionPreview(IReadOnlyList<RetentionCandidate> Versions);
