namespace Berth.Core.Data.Entities;

/// <summary>A blob known to be durably in the blob store. Written only after the bytes are in place.</summary>
public sealed class StoredBlob
{
    public required string Digest { get; set; }
    public long Size { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// When a push last declared or uploaded these bytes (null: never since the row was written). Garbage
    /// collection keeps a blob used within its grace period, and this write is what closes the race between
    /// a push declaring the blob and a collection deciding to delete it (docs/retention.md).
    /// </summary>
    public DateTime? LastUsedAt { get; set; }

    /// <summary>
    /// Set when garbage collection decided to delete the blob. From then on the row counts as absent (a push
    /// uploads the bytes again), so a crash between deleting the bytes and the row never leaves a row that
    /// claims bytes that are gone.
    /// </summary>
    public DateTime? DeletingAt { get; set; }

    /// <summary>
    /// Set when a scrub (<c>berth fsck --quarantine</c>) found the bytes missing or corrupt: the versions that use the
    /// blob fail with <c>blob_corrupt</c> instead of serving bad bytes. A later scrub that finds the bytes healthy
    /// again (restored from a backup) clears it.
    /// </summary>
    public DateTime? QuarantinedAt { get; set; }

    /// <summary>What the scrub found (a <c>FsckProblemKinds</c> value) while <see cref="QuarantinedAt"/> is set.</summary>
    public string? QuarantineReason { get; set; }
}
