namespace Berth.Server.Backup;

/// <summary>
/// What <c>berth restore</c> did: the data folder and blob folder it filled, when the backup's snapshot was taken, its
/// ready versions and blobs, and the blobs the backup lacked or held corrupt (left out; <c>berth fsck</c> reports them).
/// </summary>
public sealed record RestoreResult(
    string DataDirectory,
    string BlobFolder,
    DateTimeOffset SnapshotAt,
    int ReadyVersions,
    int Blobs,
    long Bytes,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Corrupt);
