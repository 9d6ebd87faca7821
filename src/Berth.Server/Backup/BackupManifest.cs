namespace Berth.Server.Backup;

/// <summary>What <c>backup.json</c> says about the snapshot beside it.</summary>
internal sealed record BackupManifest(DateTimeOffset CreatedAt, string Source, int ReadyVersions, int Blobs, long Bytes);
