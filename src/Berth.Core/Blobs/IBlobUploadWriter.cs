using Berth.Contracts.Naming;

namespace Berth.Core.Blobs;

/// <summary>
/// Exclusive, append-only access to one upload's data. While it is open nobody else can write to the
/// upload. <see cref="FlushAsync"/> makes what was written durable; <see cref="CommitAsync"/> moves the
/// data into the content-addressed area under a digest the caller has already verified.
/// </summary>
public interface IBlobUploadWriter : IAsyncDisposable
{
    UploadId Id { get; }

    /// <summary>Bytes held by the upload, including what this writer appended.</summary>
    long Length { get; }

    /// <summary>
    /// The client wrote the bytes straight into the store (see <see cref="IBlobStore.PlanDirectUploadAsync"/>): no hash
    /// this server computed while receiving covers them, so they are verified by reading them back.
    /// </summary>
    bool WrittenDirectly => false;

    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Makes every byte written so far durable (fsync or equivalent).</summary>
    Task FlushAsync(CancellationToken cancellationToken);

    /// <summary>Reads the upload's bytes from the start, e.g. to recompute a hash after a restart.</summary>
    Task<Stream> OpenReadAsync(CancellationToken cancellationToken);

    /// <summary>Makes the data durable and moves it to the blob's place. The upload is gone afterwards.</summary>
    Task<BlobPutResult> CommitAsync(Digest digest, CancellationToken cancellationToken);
}
