using Berth.Contracts.Naming;

namespace Berth.Core.Blobs;

/// <summary>
/// Content-addressed storage of file bytes. Blobs are addressed only by validated digests and upload
/// sessions only by generated ids, so no path is ever built from user input. Every implementation runs
/// the same conformance test suite.
/// </summary>
public interface IBlobStore
{
    /// <summary>A short name for logs and metrics ("filesystem", "s3").</summary>
    string Name { get; }

    Task<BlobStat?> StatAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Opens the blob for reading from <paramref name="offset"/>. Throws <see cref="BlobNotFoundException"/>.</summary>
    Task<Stream> OpenReadAsync(Digest digest, long offset, CancellationToken cancellationToken);

    /// <summary>A short-lived URL the client may download from directly, or null to stream through Berth.</summary>
    Task<Uri?> GetDownloadUriAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>Deletes a blob; false when it was not there.</summary>
    Task<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken);

    IAsyncEnumerable<BlobStat> EnumerateAsync(CancellationToken cancellationToken);

    /// <summary>How many bytes the upload holds durably (0 when it has none yet).</summary>
    Task<long> GetUploadLengthAsync(UploadId id, CancellationToken cancellationToken);

    /// <summary>
    /// Opens the upload for appending at <paramref name="offset"/> (null: at its end). Throws
    /// <see cref="UploadConflictException"/> when another writer holds it or the offset is not its end.
    /// </summary>
    Task<IBlobUploadWriter> OpenUploadWriterAsync(UploadId id, long? offset, CancellationToken cancellationToken);

    /// <summary>
    /// Presigned URLs with which the client writes upload <paramref name="id"/> (<paramref name="size"/> bytes) straight
    /// into the store, part by part; null when this store takes upload bytes only through Berth. Opening the
    /// upload's writer afterwards gives one whose <see cref="IBlobUploadWriter.WrittenDirectly"/> is true: it holds the
    /// parts as written, which must be read back to be verified, and takes no appends. Planning an upload that already
    /// holds bytes written through Berth is 409 <c>upload_mode_conflict</c>.
    /// </summary>
    Task<DirectUploadTarget?> PlanDirectUploadAsync(UploadId id, long size, TimeSpan lifetime, CancellationToken cancellationToken);

    Task DeleteUploadAsync(UploadId id, CancellationToken cancellationToken);

    IAsyncEnumerable<UploadEntry> EnumerateUploadsAsync(CancellationToken cancellationToken);
}
