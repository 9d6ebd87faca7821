namespace Berth.Core.Blobs;

/// <summary>Upload data present in the store (used to purge leftovers that have no session).</summary>
public sealed record UploadEntry(UploadId Id, long Length, DateTimeOffset LastModified);
