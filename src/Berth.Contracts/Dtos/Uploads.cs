namespace Berth.Contracts.Dtos;

/// <summary>A resumable upload session. <c>Offset</c> is how many bytes the server holds durably.</summary>
public sealed record UploadInfo(string Id, long Offset, DateTimeOffset ExpiresAt, string Location);

/// <summary>The result of finishing an upload: the blob now stored under its digest.</summary>
public sealed record BlobInfo(string Digest, long Size);

public sealed record BlobCheckRequest(IReadOnlyList<string> Digests);

public sealed record BlobCheckResponse(IReadOnlyList<string> Missing);
