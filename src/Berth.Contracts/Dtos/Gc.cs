namespace Berth.Contracts.Dtos;

/// <summary>
/// What one garbage collection did, or (with <c>DryRun</c>) would do. <c>Swept</c> is false when another
/// replica was sweeping at the time, so this one did nothing. <c>RetentionDeleted</c>: ready versions
/// that retention policies selected and that were deleted (softly) now; <c>RetentionVersions</c> names them
/// (<c>namespace/model:number</c>, up to 1,000) and <c>RetentionFreedBytes</c> is what deleting them frees once
/// they are purged: the blobs no ready or pending version keeps, each counted once. <c>PurgedVersions</c>: deleted
/// or failed versions (and versions of deleted models and namespaces) whose purge delay had passed.
/// <c>Blobs</c>/<c>Bytes</c>: unreferenced blobs deleted; <c>OrphanFiles</c>/<c>OrphanBytes</c>: stored
/// bytes with no database row (left by a crash); <c>ExpiredUploads</c>: upload sessions removed; <c>PurgedRuns</c>:
/// deleted runs (and runs of deleted models and namespaces) past the purge delay, whose files and metric series were removed.
/// <c>RetentionRunsDeleted</c>: training runs that retention policies deleted (softly) now, having ended long enough ago
/// without producing a version; <c>RetentionRuns</c> names them (<c>namespace/model/id</c>, up to 1,000).
/// </summary>
public sealed record GcReport(
    bool DryRun,
    bool Swept,
    int RetentionDeleted,
    IReadOnlyList<string> RetentionVersions,
    long RetentionFreedBytes,
    int PurgedVersions,
    int Blobs,
    long Bytes,
    int OrphanFiles,
    long OrphanBytes,
    int ExpiredUploads,
    IReadOnlyList<string> Digests,
    int PurgedRuns = 0,
    int RetentionRunsDeleted = 0,
    IReadOnlyList<string>? RetentionRuns = null);
