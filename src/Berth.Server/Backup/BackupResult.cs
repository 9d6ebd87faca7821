namespace Berth.Server.Backup;

/// <summary>
/// What <c>berth backup</c> did: the snapshot's time, its ready versions, the blobs it records (and their bytes), those
/// copied now (the rest the backup already held), the blobs deleted because the snapshot no longer records them, and the
/// blobs that could not be copied because the store's bytes are missing or corrupt (<c>berth fsck</c> says more).
/// </summary>
public sealed record BackupResult(
    string Directory,
    DateTimeOffset CreatedAt,
    int ReadyVersions,
    int Blobs,
    long Bytes,
    int CopiedBlobs,
    long CopiedBytes,
    int PrunedBlobs,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Corrupt);
