namespace Berth.Contracts.Dtos;

/// <summary>A resumable upload session. <c>Offset</c> is how many bytes the server holds durably.</summary>
public sealed record UploadInfo(string Id, long Offset, DateTimeOffset ExpiresAt, string Location);

/// <summary>The result of finishing an upload: the blob now stored under its digest.</summary>
public sealed record BlobInfo(string Digest, long Size);

public sealed record BlobCheckRequest(IReadOnlyList<string> Digests);

public sealed record BlobCheckResponse(IReadOnlyList<string> Missing);

/// <summary>Asks for presigned URLs to write an upload of <c>Size</c> bytes straight into the object store.</summary>
public sealed record DirectUploadRequest(long Size);

/// <summary>
/// Where to <c>PUT</c> each part of a direct upload (parts in order make the file; <c>Uploaded</c> parts are already
/// there). The URLs expire at <c>ExpiresAt</c>; ask again for fresh ones. Finish the upload as usual, with
/// <c>PUT {location}?digest=&amp;size=</c>: the server reads the parts back and verifies them.
/// </summary>
public sealed record DirectUploadPlan(long PartSize, IReadOnlyList<DirectUploadPart> Parts, DateTimeOffset ExpiresAt);

public sealed record DirectUploadPart(int Number, long Offset, long Size, string Url, bool Uploaded);
