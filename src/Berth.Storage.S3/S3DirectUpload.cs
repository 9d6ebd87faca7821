using Amazon.S3;
using Amazon.S3.Model;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;
using Berth.Core.Errors;

namespace Berth.Storage.S3;

/// <summary>
/// An upload whose parts the client writes straight into the bucket with presigned URLs: one S3 multipart upload on
/// <c>uploads/&lt;id&gt;/direct</c>. Nothing the client wrote is trusted: finishing completes the multipart upload
/// (the parts numbered without a gap from 1, each but the last at least 5 MiB), reads the object back to hash it,
/// and only a verified object is copied to its content address (a server-side copy). Planning parts for an upload
/// that already holds bytes sent through Berth is refused (and the upload service refuses appends to this one).
/// </summary>
internal sealed class S3DirectUpload : IBlobUploadWriter
{
    /// <summary>CopyObject copies at most 5 GiB; larger objects are copied in ranges of a multipart upload.</summary>
    private const long MaxSingleCopy = 5L * 1024 * 1024 * 1024;

    private const long CopyRange = 512L * 1024 * 1024;

    private const int CopyParallelism = 4;

    /// <summary>Direct parts are at least this large: fewer requests per byte, and the client holds no buffer for them.</summary>
    private const long MinDirectPartSize = 16L * 1024 * 1024;

    private readonly S3BlobStore _store;
    private readonly string _key;
    private string? _multipart;
    private IReadOnlyList<PartDetail> _parts;
    private bool _disposed;

    private S3DirectUpload(S3BlobStore store, UploadId id, string? multipart, IReadOnlyList<PartDetail> parts, long length)
    {
        _store = store;
        Id = id;
        _key = store.Keys.Direct(id);
        _multipart = multipart;
        _parts = parts;
        Length = length;
    }

    public UploadId Id { get; }

    public long Length { get; }

    public bool WrittenDirectly => true;

    private string Bucket => _store.Options.Bucket;

    private S3Client Client => _store.Client;

    /// <summary>
    /// The direct upload of <paramref name="id"/>, or null when the client never asked for part URLs. The caller holds
    /// the store's writer slot for the upload, which disposing releases.
    /// </summary>
    public static async Task<S3DirectUpload?> TryOpenAsync(S3BlobStore store, UploadId id, CancellationToken cancellationToken)
    {
        var multipart = await FindMultipartAsync(store, id, cancellationToken);
        if (multipart is not null)
        {
            var parts = Usable(await ListPartsAsync(store, store.Keys.Direct(id), multipart, cancellationToken));
            return new S3DirectUpload(store, id, multipart, parts, parts.Sum(p => p.Size ?? 0));
        }

        // Completed by an earlier attempt to finish that did not get as far as removing it.
        var stat = await StatAsync(store, store.Keys.Direct(id), cancellationToken);
        return stat is { } size ? new S3DirectUpload(store, id, null, [], size) : null;
    }

    /// <summary>How many bytes the usable parts of the direct upload hold; null when the upload is not direct.</summary>
    public static async Task<long?> GetLengthAsync(S3BlobStore store, UploadId id, CancellationToken cancellationToken)
    {
        var multipart = await FindMultipartAsync(store, id, cancellationToken);
        return multipart is not null
            ? Usable(await ListPartsAsync(store, store.Keys.Direct(id), multipart, cancellationToken)).Sum(p => p.Size ?? 0)
            : await StatAsync(store, store.Keys.Direct(id), cancellationToken);
    }

    /// <summary>Presigned part URLs for an upload of <paramref name="size"/> bytes, starting its multipart upload if needed.</summary>
    public static async Task<DirectUploadTarget> PlanAsync(S3BlobStore store, UploadId id, long size, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        if ((await store.ListUploadAsync(id, cancellationToken)).Length > 0)
        {
            throw Fail.Error(ErrorCodes.UploadModeConflict, "This upload already holds bytes sent through Berth: continue it with PATCH.");
        }

        var key = store.Keys.Direct(id);
        var multipart = await FindMultipartAsync(store, id, cancellationToken);
        if (multipart is null)
        {
            if (await StatAsync(store, key, cancellationToken) is not null)
            {
                throw Fail.Error(ErrorCodes.UploadModeConflict, "This upload's parts were already assembled by a request to finish it: finish it again (PUT with ?digest=) or cancel it.");
            }

            await store.Client.CallAsync("start a direct upload", s3 => s3.InitiateMultipartUploadAsync(
                new InitiateMultipartUploadRequest { BucketName = store.Options.Bucket, Key = key }, cancellationToken));

            // Of two requests that started one at the same time, both use the oldest.
            multipart = await FindMultipartAsync(store, id, cancellationToken)
                ?? throw store.Client.Failure("start a direct upload", new InvalidOperationException("the new multipart upload is not listed"));
        }

        var uploaded = (await ListPartsAsync(store, key, multipart, cancellationToken)).ToDictionary(p => p.PartNumber ?? 0, p => p.Size ?? 0);
        var partSize = PartSize(Math.Max(store.Options.PartSize, MinDirectPartSize), size);
        var expires = DateTime.UtcNow + lifetime;
        var count = (int)((size + partSize - 1) / partSize);
        var slots = new DirectUploadSlot[count];
        for (var number = 1; number <= count; number++)
        {
            var offset = (number - 1) * partSize;
            var length = Math.Min(partSize, size - offset);
            var url = await store.Client.CallAsync("sign a part URL", s3 => s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
            {
                BucketName = store.Options.Bucket,
                Key = key,
                Verb = HttpVerb.PUT,
                UploadId = multipart,
                PartNumber = number,
                Expires = expires,
                Protocol = store.Client.IsHttps ? Protocol.HTTPS : Protocol.HTTP,
            }));
            slots[number - 1] = new DirectUploadSlot(number, offset, length, new Uri(url), uploaded.GetValueOrDefault(number) == length);
        }

        return new DirectUploadTarget(partSize, slots, expires);
    }

    /// <summary>The store's part size, doubled until the upload needs at most 10,000 parts (S3's limit).</summary>
    internal static long PartSize(long configured, long size)
    {
        var partSize = configured;
        while ((size + partSize - 1) / partSize > 10_000)
        {
            partSize *= 2;
        }

        return partSize;
    }

    /// <summary>Removes the direct upload of <paramref name="id"/>: its multipart uploads and the assembled object.</summary>
    public static async Task DeleteAsync(S3BlobStore store, UploadId id, CancellationToken cancellationToken)
    {
        var key = store.Keys.Direct(id);
        foreach (var upload in await ListMultipartsAsync(store, key, cancellationToken))
        {
            await store.Client.CallAsync("abort a direct upload", s3 => s3.AbortMultipartUploadAsync(store.Options.Bucket, key, upload.UploadId, cancellationToken));
        }

        await store.DeleteObjectAsync(key, cancellationToken);
    }

    /// <summary>Direct uploads in progress (no object yet), with when they started: for the sweep of orphaned uploads.</summary>
    public static async IAsyncEnumerable<UploadEntry> EnumerateInProgressAsync(S3BlobStore store, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var upload in await ListMultipartsAsync(store, store.Keys.UploadsRoot, cancellationToken))
        {
            if (store.Keys.TryParseDirect(upload.Key, out var id))
            {
                yield return new UploadEntry(id, 0, upload.Initiated ?? DateTime.UnixEpoch);
            }
        }
    }

    /// <summary>Never called: the upload service refuses appends to an upload that is <see cref="WrittenDirectly"/>.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A direct upload takes no bytes through Berth.");

    public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Assembles the parts (completing the multipart upload) and reads the result from its start, several ranges at a time.</summary>
    public async Task<Stream> OpenReadAsync(CancellationToken cancellationToken)
    {
        await AssembleAsync(cancellationToken);
        return new S3PrefetchStream(Client, _key, Length);
    }

    public async Task<BlobPutResult> CommitAsync(Digest digest, CancellationToken cancellationToken)
    {
        await AssembleAsync(cancellationToken);
        var result = BlobPutResult.AlreadyExists;
        if (await _store.StatAsync(digest, cancellationToken) is null)
        {
            await CopyAsync(_store.Keys.Blob(digest), digest, cancellationToken);
            result = BlobPutResult.Created;
        }

        await _store.DeleteUploadAsync(Id, cancellationToken);
        return result;
    }

    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _store.Release(Id);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Completes the multipart upload with the usable parts (once); an upload without parts becomes an empty object.</summary>
    private async Task AssembleAsync(CancellationToken cancellationToken)
    {
        if (_multipart is not { } multipart)
        {
            return;
        }

        const string what = "assemble a direct upload";
        if (_parts.Count == 0)
        {
            await Client.CallAsync(what, s3 => s3.AbortMultipartUploadAsync(Bucket, _key, multipart, cancellationToken));
            await Client.CallAsync(what, s3 => s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = _key, InputStream = new MemoryStream() }, cancellationToken));
        }
        else
        {
            await Client.CallAsync(what, s3 => s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Bucket,
                Key = _key,
                UploadId = multipart,
                PartETags = [.. _parts.Select(p => new PartETag(p.PartNumber ?? 0, p.ETag))],
            }, cancellationToken));
        }

        _multipart = null;
        _parts = [];
    }

    private async Task CopyAsync(string target, Digest digest, CancellationToken cancellationToken)
    {
        var what = "copy the verified upload into blob " + digest;
        if (Length <= MaxSingleCopy)
        {
            await Client.CallAsync(what, s3 => s3.CopyObjectAsync(new CopyObjectRequest
            {
                SourceBucket = Bucket,
                SourceKey = _key,
                DestinationBucket = Bucket,
                DestinationKey = target,
            }, cancellationToken));
            return;
        }

        await Client.MultipartAsync(what, target, async multipart =>
        {
            var count = (int)((Length + CopyRange - 1) / CopyRange);
            var etags = new PartETag[count];
            await Parallel.ForEachAsync(Enumerable.Range(1, count), new ParallelOptions { MaxDegreeOfParallelism = CopyParallelism, CancellationToken = cancellationToken }, async (number, ct) =>
            {
                var first = (number - 1) * CopyRange;
                var copied = await Client.CallAsync(what, s3 => s3.CopyPartAsync(new CopyPartRequest
                {
                    SourceBucket = Bucket,
                    SourceKey = _key,
                    DestinationBucket = Bucket,
                    DestinationKey = target,
                    UploadId = multipart,
                    PartNumber = number,
                    FirstByte = first,
                    LastByte = Math.Min(Length, first + CopyRange) - 1,
                }, ct));
                etags[number - 1] = new PartETag(number, copied.ETag);
            });
            return etags;
        }, cancellationToken);
    }

    /// <summary>The parts that make the upload: numbered without a gap from 1, every one but the last at least S3's minimum.</summary>
    private static List<PartDetail> Usable(IEnumerable<PartDetail> parts)
    {
        var usable = new List<PartDetail>();
        foreach (var part in parts.OrderBy(p => p.PartNumber))
        {
            if (part.PartNumber != usable.Count + 1 || (usable.Count > 0 && usable[^1].Size < S3BlobStoreOptions.MinPartSize))
            {
                break;
            }

            usable.Add(part);
        }

        return usable;
    }

    private static async Task<string?> FindMultipartAsync(S3BlobStore store, UploadId id, CancellationToken cancellationToken)
    {
        var key = store.Keys.Direct(id);
        return (await ListMultipartsAsync(store, key, cancellationToken))
            .Where(u => u.Key == key)
            .OrderBy(u => u.Initiated)
            .ThenBy(u => u.UploadId, StringComparer.Ordinal)
            .FirstOrDefault()?.UploadId;
    }

    private static async Task<List<MultipartUpload>> ListMultipartsAsync(S3BlobStore store, string prefix, CancellationToken cancellationToken)
    {
        var result = new List<MultipartUpload>();
        string? keyMarker = null;
        string? idMarker = null;
        while (true)
        {
            var page = await store.Client.CallAsync("list multipart uploads", s3 => s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest
            {
                BucketName = store.Options.Bucket,
                Prefix = prefix,
                KeyMarker = keyMarker,
                UploadIdMarker = idMarker,
            }, cancellationToken));
            result.AddRange(page.MultipartUploads ?? []);
            if (page.IsTruncated != true)
            {
                return result;
            }

            keyMarker = page.NextKeyMarker;
            idMarker = page.NextUploadIdMarker;
        }
    }

    private static async Task<List<PartDetail>> ListPartsAsync(S3BlobStore store, string key, string multipart, CancellationToken cancellationToken)
    {
        var result = new List<PartDetail>();
        string? marker = null;
        while (true)
        {
            var page = await store.Client.CallAsync("list the parts of a direct upload", s3 => s3.ListPartsAsync(new ListPartsRequest
            {
                BucketName = store.Options.Bucket,
                Key = key,
                UploadId = multipart,
                PartNumberMarker = marker,
            }, cancellationToken));
            result.AddRange(page.Parts ?? []);
            if (page.IsTruncated != true)
            {
                return result;
            }

            marker = page.NextPartNumberMarker?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static async Task<long?> StatAsync(S3BlobStore store, string key, CancellationToken cancellationToken) =>
        (await store.HeadAsync(key, key, cancellationToken))?.ContentLength;
}
