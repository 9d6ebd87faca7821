namespace Berth.Core.Blobs;

/// <summary>
/// Presigned URLs for writing the parts of an upload straight into the blob store; parts already there are
/// <see cref="DirectUploadSlot.Uploaded"/>.
/// </summary>
public sealed record DirectUploadTarget(long PartSize, IReadOnlyList<DirectUploadSlot> Parts, DateTimeOffset ExpiresAt);

public sealed record DirectUploadSlot(int Number, long Offset, long Size, Uri Url, bool Uploaded);
