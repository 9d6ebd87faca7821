namespace Berth.Contracts.Dtos;

/// <summary>The kinds of problem <c>berth fsck</c> reports.</summary>
public static class FsckProblemKinds
{
    /// <summary>The database records the blob, but the store has no bytes for it.</summary>
    public const string Missing = "missing";

    /// <summary>The stored bytes are not as long as the database records.</summary>
    public const string SizeMismatch = "size_mismatch";

    /// <summary>The stored bytes do not hash to the blob's digest.</summary>
    public const string DigestMismatch = "digest_mismatch";

    /// <summary>Bytes in the store that the database does not record (older than the grace period; garbage collection deletes them).</summary>
    public const string Stray = "stray";

    public static IReadOnlyList<string> All { get; } = [Missing, SizeMismatch, DigestMismatch, Stray];
}

/// <summary>
/// One problem found by a scrub. <c>Size</c> is what the database records (null for a stray), <c>ActualSize</c> and
/// <c>ActualDigest</c> what the store holds (when known). <c>Versions</c> are the versions whose files use the blob
/// (<c>namespace/model:number</c>, with the state when not ready; up to 100). <c>Quarantined</c>: the blob is
/// quarantined now (by this scrub, or still from an earlier one), so its versions fail with <c>blob_corrupt</c>.
/// </summary>
public sealed record FsckProblem(
    string Kind,
    string Digest,
    long? Size,
    long? ActualSize,
    string? ActualDigest,
    IReadOnlyList<string> Versions,
    bool Quarantined,
    string Detail);

/// <summary>How far a scrub has got (sent every few seconds, so a long scrub shows it is alive).</summary>
public sealed record FsckProgress(int BlobsChecked, long BytesChecked, int Problems);

/// <summary>
/// What a whole scrub found. <c>BlobsChecked</c>/<c>BytesChecked</c>: blob rows whose bytes were read and hashed;
/// <c>StoredChecked</c>: objects of the store looked up in the database; <c>Quarantined</c>: blobs quarantined by
/// this scrub; <c>Released</c>: quarantined blobs found healthy again (restored), whose quarantine was lifted.
/// </summary>
public sealed record FsckReport(
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    bool Quarantine,
    int BlobsChecked,
    long BytesChecked,
    int StoredChecked,
    int Problems,
    int Missing,
    int SizeMismatches,
    int DigestMismatches,
    int Strays,
    int Quarantined,
    int Released,
    IReadOnlyList<string> ReleasedDigests);

/// <summary>
/// One line of the scrub's answer (<c>application/x-ndjson</c>): <c>type</c> is <c>problem</c>, <c>progress</c>,
/// <c>report</c> (the last line of a scrub that finished) or <c>error</c> (the scrub stopped: <c>code</c> and
/// <c>detail</c> as in a problem answer).
/// </summary>
public sealed record FsckLine(
    string Type,
    FsckProblem? Problem = null,
    FsckProgress? Progress = null,
    FsckReport? Report = null,
    string? Code = null,
    string? Detail = null)
{
    public const string ProblemType = "problem";
    public const string ProgressType = "progress";
    public const string ReportType = "report";
    public const string ErrorType = "error";
}
