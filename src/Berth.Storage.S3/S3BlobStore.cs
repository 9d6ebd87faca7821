using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Amazon.S3;
using Amazon.S3.Model;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;

namespace Berth.Storage.S3;

/// <summary>
/// Blobs in an S3-compatible bucket, laid out by <see cref="S3Keys"/>. An upload is staged as part objects of
/// <see cref="S3BlobStoreOptions.PartSize"/> bytes plus a tail object (the bytes after the last full part,
/// written on every flush), so that it can be resumed and read back by any replica. Committing a verified
/// upload assembles the blob with a multipart upload straight into its content address (server-side part
/// copies, the tail as the last part): the blob appears only when the multipart upload completes, whole. With
/// <c>upload=redirect</c> clients may instead write an upload's parts straight into the bucket (<see cref="S3DirectUpload"/>).
/// </summary>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    private readonly ConcurrentDictionary<UploadId, byte> _writers = new();

    public S3BlobStore(S3BlobStoreOptions options)
    {
        Options = options;
        Client = new S3Client(options);
        Keys = new S3Keys(options.Prefix);
    }

    public string Name => "s3";

    public S3BlobStoreOptions Options { get; }

    internal S3Client Client { get; }

    internal S3Keys Keys { get; }

    /// <summary>Checks that the bucket exists and the credentials may list it (start-up and readiness).</summary>
    public Task CheckAsync(CancellationToken cancellationToken) =>
        Client.CallAsync("list the bucket", s3 => s3.ListObjectsV2Async(
            new ListObjectsV2Request { BucketName = Options.Bucket, Prefix = Keys.UploadsRoot, MaxKeys = 1 }, cancellationToken));

    public async Task<BlobStat?> StatAsync(Digest digest, CancellationToken cancellationToken) =>
        await HeadAsync(Keys.Blob(digest), "blob " + digest, cancellationToken) is { } head
            ? new BlobStat(digest, head.ContentLength, head.LastModified ?? DateTime.UnixEpoch)
            : null;

    public async Task<Stream> OpenReadAsync(Digest digest, long offset, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var stat = await StatAsync(digest, cancellationToken) ?? throw new BlobNotFoundException(digest);
        var stream = new S3ReadStream(Client, Keys.Blob(digest), stat.Size, digest);
        stream.Seek(Math.Min(offset, stat.Size), SeekOrigin.Begin);
        return stream;
    }

    public async Task<Uri?> GetDownloadUriAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        if (Options.Download != S3TransferMode.Redirect)
        {
            return null;
        }

        var url = await Client.CallAsync("sign a download URL", s3 => s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = Options.Bucket,
            Key = Keys.Blob(digest),
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow + lifetime,
            Protocol = Client.IsHttps ? Protocol.HTTPS : Protocol.HTTP,
        }));
        return new Uri(url);
    }

    public async Task<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken)
    {
        if (await StatAsync(digest, cancellationToken) is null)
        {
            return false;
        }

        await DeleteObjectAsync(Keys.Blob(digest), cancellationToken);
        return true;
    }

    public async IAsyncEnumerable<BlobStat> EnumerateAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in ListAsync(Keys.BlobsRoot, cancellationToken))
        {
            if (Keys.TryParseBlob(item.Key, out var digest))
            {
                yield return new BlobStat(digest, item.Size ?? 0, item.LastModified ?? DateTime.UnixEpoch);
            }
        }
    }

    /// <summary>The bytes staged through Berth, or for a direct upload those of its usable parts.</summary>
    public async Task<long> GetUploadLengthAsync(UploadId id, CancellationToken cancellationToken)
    {
        if (Options.Upload == S3TransferMode.Redirect && await S3DirectUpload.GetLengthAsync(this, id, cancellationToken) is { } direct)
        {
            return direct;
        }

        return (await ListUploadAsync(id, cancellationToken)).Length;
    }

    public async Task<DirectUploadTarget?> PlanDirectUploadAsync(UploadId id, long size, TimeSpan lifetime, CancellationToken cancellationToken) =>
        Options.Upload == S3TransferMode.Redirect ? await S3DirectUpload.PlanAsync(this, id, size, lifetime, cancellationToken) : null;

    public async Task<IBlobUploadWriter> OpenUploadWriterAsync(UploadId id, long? offset, CancellationToken cancellationToken)
    {
        // One writer per upload in this process. Across replicas UploadService's writer lease (a database row) is the
        // guard; this only keeps a caller that bypasses it from interleaving writes in one process.
        if (!_writers.TryAdd(id, 0))
        {
            throw new UploadConflictException(id, await GetUploadLengthAsync(id, cancellationToken), busy: true);
        }

        try
        {
            // With upload=redirect an upload may be one the client writes straight into the bucket.
            if (Options.Upload == S3TransferMode.Redirect && await S3DirectUpload.TryOpenAsync(this, id, cancellationToken) is { } direct)
            {
                return direct;
            }

            var objects = await ListUploadAsync(id, cancellationToken);
            if (offset is { } expected && expected != objects.Length)
            {
                throw new UploadConflictException(id, objects.Length, busy: false);
            }

            return await S3UploadWriter.OpenAsync(this, id, objects, cancellationToken);
        }
        catch
        {
            Release(id);
            throw;
        }
    }

    public async Task DeleteUploadAsync(UploadId id, CancellationToken cancellationToken)
    {
        var objects = await ListUploadAsync(id, cancellationToken);
        foreach (var staged in objects.Parts.Concat(objects.Tails))
        {
            await DeleteObjectAsync(staged.Key, cancellationToken);
        }

        // Also when uploads are proxied now: they may have been redirected when the upload started.
        await S3DirectUpload.DeleteAsync(this, id, cancellationToken);
    }

    public async IAsyncEnumerable<UploadEntry> EnumerateUploadsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        UploadId? current = null;
        var objects = new UploadObjects();
        await foreach (var item in ListAsync(Keys.UploadsRoot, cancellationToken))
        {
            if (!Keys.TryParseUpload(item.Key, out var id, out var isPart, out var number))
            {
                if (Keys.TryParseDirect(item.Key, out var direct))
                {
                    // An assembled direct upload left behind by a finish that did not complete.
                    yield return new UploadEntry(direct, item.Size ?? 0, item.LastModified ?? DateTime.UnixEpoch);
                }

                continue;
            }

            // Keys are listed in order, so the objects of one upload come together.
            if (current is { } previous && previous != id)
            {
                yield return new UploadEntry(previous, objects.Length, objects.LastModified);
                objects = new UploadObjects();
            }

            current = id;
            objects.Add(isPart, new StagedObject(number, item.Key, item.Size ?? 0), item.LastModified ?? DateTime.UnixEpoch);
        }

        if (current is { } last)
        {
            yield return new UploadEntry(last, objects.Length, objects.LastModified);
        }

        await foreach (var entry in S3DirectUpload.EnumerateInProgressAsync(this, cancellationToken))
        {
            yield return entry;
        }
    }

    public void Dispose() => Client.Dispose();

    internal void Release(UploadId id) => _writers.TryRemove(id, out _);

    /// <summary>The object's metadata, or null when there is no such object.</summary>
    internal async Task<GetObjectMetadataResponse?> HeadAsync(string key, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await Client.CallAsync("look up " + what, s3 => s3.GetObjectMetadataAsync(Options.Bucket, key, cancellationToken));
        }
        catch (BlobStoreException e) when (S3Client.IsNotFound(e))
        {
            return null;
        }
    }

    internal Task DeleteObjectAsync(string key, CancellationToken cancellationToken) =>
        Client.CallAsync("delete " + key, s3 => s3.DeleteObjectAsync(Options.Bucket, key, cancellationToken));

    internal async Task<UploadObjects> ListUploadAsync(UploadId id, CancellationToken cancellationToken)
    {
        var objects = new UploadObjects();
        await foreach (var item in ListAsync(Keys.Upload(id), cancellationToken))
        {
            if (Keys.TryParseUpload(item.Key, out var parsed, out var isPart, out var number) && parsed == id)
            {
                objects.Add(isPart, new StagedObject(number, item.Key, item.Size ?? 0), item.LastModified ?? DateTime.UnixEpoch);
            }
        }

        return objects;
    }

    private async IAsyncEnumerable<S3Object> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = null;
        do
        {
            var request = new ListObjectsV2Request { BucketName = Options.Bucket, Prefix = prefix, ContinuationToken = token };
            var page = await Client.CallAsync("list " + prefix, s3 => s3.ListObjectsV2Async(request, cancellationToken));
            foreach (var item in page.S3Objects ?? [])
            {
                yield return item;
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }
}
