using Berth.Contracts.Naming;
using Berth.Core.Blobs;
using Berth.Storage.S3;
using Berth.Testing.Blobs;
using Berth.Testing.S3;

namespace Berth.Storage.Tests;

/// <summary>The blob-store contract and the S3 store's own promises, against a real radosgw.</summary>
public sealed class S3BlobStoreTests : BlobStoreConformanceTests
{
    private const int PartSize = S3BlobStoreOptions.MinPartSize;

    private readonly string _prefix = TestS3.NewPrefix("store");
    private readonly List<S3BlobStore> _stores = [];

    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        await TestS3.EnsureBucketAsync(Ct);
        return NewStore();
    }

    protected override async Task DeleteStoreAsync()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        await TestS3.DeletePrefixAsync(_prefix, CancellationToken.None);
    }

    [Fact]
    public async Task LargeUploadsAreAssembledFromStagedPartsByAMultipartUpload()
    {
        var bytes = RandomBytes((2 * PartSize) + 12_345, 10);
        var digest = Digest.Compute(bytes);
        var id = UploadId.New();
        await using (var writer = await Store.OpenUploadWriterAsync(id, 0, Ct))
        {
            // Odd-sized appends with flushes between them, as a client sending small chunks would cause.
            for (var offset = 0; offset < bytes.Length; offset += 700_001)
            {
                await writer.WriteAsync(bytes.AsMemory(offset, Math.Min(700_001, bytes.Length - offset)), Ct);
                await writer.FlushAsync(Ct);
            }

            Assert.Null(await Store.StatAsync(digest, Ct));
            Assert.Equal(BlobPutResult.Created, await writer.CommitAsync(digest, Ct));
        }

        Assert.Equal(bytes, await ReadAsync(digest, 0));
        var objects = await TestS3.ListAsync(_prefix, Ct);
        var blob = Assert.Single(objects);
        Assert.EndsWith($"blobs/sha256/{digest.Hex[..2]}/{digest.Hex}", blob.Key, StringComparison.Ordinal);

        // An S3 multipart ETag ends in "-<number of parts>": two staged parts and the tail.
        Assert.EndsWith("-3\"", blob.ETag, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlushedBytesSurviveTheWriterAndAnotherReplicaResumesAcrossAPartBoundary()
    {
        var bytes = RandomBytes(PartSize + 4000, 11);
        var id = UploadId.New();
        await using (var writer = await Store.OpenUploadWriterAsync(id, 0, Ct))
        {
            await writer.WriteAsync(bytes.AsMemory(0, 1000), Ct);
            await writer.FlushAsync(Ct);
        }

        // Another server process: nothing in memory, only what the bucket holds.
        var replica = NewStore();
        Assert.Equal(1000, await replica.GetUploadLengthAsync(id, Ct));
        await using (var writer = await replica.OpenUploadWriterAsync(id, 1000, Ct))
        {
            await using (var prefix = await writer.OpenReadAsync(TestContext.Current.CancellationToken))
            {
                var read = new MemoryStream();
                await prefix.CopyToAsync(read, Ct);
                Assert.Equal(bytes[..1000], read.ToArray());
            }

            await writer.WriteAsync(bytes.AsMemory(1000), Ct);
            await writer.FlushAsync(Ct);
        }

        Assert.Equal(bytes.Length, await Store.GetUploadLengthAsync(id, Ct));
        await using (var writer = await Store.OpenUploadWriterAsync(id, bytes.Length, Ct))
        {
            await using (var all = await writer.OpenReadAsync(TestContext.Current.CancellationToken))
            {
                var read = new MemoryStream();
                await all.CopyToAsync(read, Ct);
                Assert.Equal(bytes, read.ToArray());
            }

            await writer.CommitAsync(Digest.Compute(bytes), Ct);
        }

        Assert.Equal(bytes, await ReadAsync(Digest.Compute(bytes), 0));
        Assert.DoesNotContain(await TestS3.ListAsync(_prefix, Ct), o => o.Key.Contains("/uploads/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BytesThatWereNeverFlushedDoNotCountAndAStaleTailIsNotCountedTwice()
    {
        var bytes = RandomBytes(PartSize + 2_000_000, 12);
        var id = UploadId.New();
        await using (var writer = await Store.OpenUploadWriterAsync(id, 0, Ct))
        {
            await writer.WriteAsync(bytes.AsMemory(0, 3_000_000), Ct);
            await writer.FlushAsync(Ct);

            // Fills the first part (staged at once) and leaves bytes in memory; the writer then dies
            // without a flush, leaving the superseded tail object behind.
            await writer.WriteAsync(bytes.AsMemory(3_000_000), Ct);
        }

        Assert.Equal(PartSize, await Store.GetUploadLengthAsync(id, Ct));
        await using (var writer = await Store.OpenUploadWriterAsync(id, PartSize, Ct))
        {
            await writer.WriteAsync(bytes.AsMemory(PartSize), Ct);
            await writer.FlushAsync(Ct);
        }

        var staged = (await TestS3.ListAsync(_prefix, Ct)).Select(o => o.Key[(o.Key.LastIndexOf('/') + 1)..]).ToList();
        Assert.Equal(["part-00001", "tail-00002"], staged);
        var upload = Assert.Single(await Store.EnumerateUploadsAsync(Ct).ToListAsync(Ct));
        Assert.Equal(bytes.Length, upload.Length);
    }

    [Fact]
    public async Task ReadStreamsSeekWithRangedRequests()
    {
        var bytes = RandomBytes(200_000, 13);
        await PutAsync(bytes);
        await using var stream = await Store.OpenReadAsync(Digest.Compute(bytes), 0, Ct);
        Assert.True(stream.CanSeek);
        Assert.Equal(bytes.Length, stream.Length);
        var buffer = new byte[1000];
        foreach (var position in new[] { 150_000, 10, 199_000 })
        {
            stream.Seek(position, SeekOrigin.Begin);
            await stream.ReadExactlyAsync(buffer, Ct);
            Assert.Equal(bytes[position..(position + 1000)], buffer);
        }
    }

    [Fact]
    public async Task RedirectModeSignsShortLivedUrlsThatTheEngineChecks()
    {
        var bytes = RandomBytes(3000, 14);
        await PutAsync(bytes);
        var digest = Digest.Compute(bytes);
        Assert.Null(await Store.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(1), Ct));

        var redirecting = NewStore("&download=redirect");
        var url = await redirecting.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(1), Ct);
        Assert.NotNull(url);
        using var http = new HttpClient();
        Assert.Equal(bytes, await http.GetByteArrayAsync(url, Ct));

        var tampered = url.ToString().Replace(digest.Hex[..8], new string('0', 8), StringComparison.Ordinal);
        using var refused = await http.GetAsync(tampered, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task RefusedCredentialsFailWithAMessageNamingTheStoreAndTheReasonButNotTheSecret()
    {
        using var store = new S3BlobStore(S3BlobsSetting.Parse(TestS3.Setting(_prefix, secretKey: "wrong-secret-123")));
        var failure = await Assert.ThrowsAsync<BlobStoreException>(() => store.GetUploadLengthAsync(UploadId.New(), Ct));
        Assert.Contains($"S3 bucket '{TestS3.Bucket}'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("SignatureDoesNotMatch", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-123", failure.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BlobStoreException>(() => store.CheckAsync(Ct));
    }

    [Fact]
    public async Task AnUnreachableEngineFailsWithAMessageNamingTheEndpoint()
    {
        var nowhere = new Uri("http://127.0.0.1:9/");
        using var store = new S3BlobStore(S3BlobsSetting.Parse(TestS3.Setting(_prefix, endpoint: nowhere)));
        var failure = await Assert.ThrowsAsync<BlobStoreException>(() => store.CheckAsync(Ct));
        Assert.Contains("http://127.0.0.1:9", failure.Message, StringComparison.Ordinal);
        Assert.Contains("refused", failure.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DirectUploadsInProgressOrAssembledAreListedWithUploadsAndDeletedWithThem()
    {
        var store = NewStore("&upload=redirect");
        var id = UploadId.New();
        // Direct parts are at least 16 MiB, whatever part-size-mb says.
        const long directPart = 16 * 1024 * 1024;
        var plan = (await store.PlanDirectUploadAsync(id, (2 * directPart) + 1, TimeSpan.FromMinutes(5), Ct))!;
        Assert.Equal([1, 2, 3], plan.Parts.Select(p => p.Number));
        Assert.Equal([directPart, directPart, 1L], plan.Parts.Select(p => p.Size));
        Assert.All(plan.Parts, p => Assert.Contains("X-Amz-Signature=", p.Url.Query, StringComparison.Ordinal));

        // In progress: no object yet, but listed (so an orphan is found) and removed by deleting the upload.
        Assert.Contains(id, await ListUploadIdsAsync(store));
        await store.DeleteUploadAsync(id, Ct);
        Assert.DoesNotContain(id, await ListUploadIdsAsync(store));
        using var s3 = TestS3.NewClient();
        var multiparts = await s3.ListMultipartUploadsAsync(new Amazon.S3.Model.ListMultipartUploadsRequest { BucketName = TestS3.Bucket, Prefix = _prefix + "/" }, Ct);
        Assert.Empty(multiparts.MultipartUploads ?? []);

        // Assembled by a finish that stopped before the copy: listed too, and deleted.
        var assembled = UploadId.New();
        var small = (await store.PlanDirectUploadAsync(assembled, 10, TimeSpan.FromMinutes(5), Ct))!;
        using (var http = new HttpClient())
        using (var body = new ByteArrayContent(new byte[10]))
        {
            (await http.PutAsync(small.Parts[0].Url, body, Ct)).EnsureSuccessStatusCode();
        }

        await using (var writer = await store.OpenUploadWriterAsync(assembled, null, Ct))
        {
            Assert.True(writer.WrittenDirectly);
            Assert.Equal(10, writer.Length);
            await using var read = await writer.OpenReadAsync(Ct);
            Assert.Equal(new byte[10], await ReadAllAsync(read));
        }

        Assert.Contains(assembled, await ListUploadIdsAsync(store));
        Assert.Single(await TestS3.ListAsync(_prefix, Ct));
        await store.DeleteUploadAsync(assembled, Ct);
        Assert.Empty(await TestS3.ListAsync(_prefix, Ct));
    }

    [Fact]
    public async Task AStoreThatProxiesUploadsHandsOutNoPartUrls() =>
        Assert.Null(await Store.PlanDirectUploadAsync(UploadId.New(), 10 * PartSize, TimeSpan.FromMinutes(5), Ct));

    [Theory]
    [InlineData(5L << 20, 1L << 30, 5L << 20)]
    [InlineData(5L << 20, 100L << 30, 20L << 20)]
    [InlineData(8L << 20, 1L << 40, 128L << 20)]
    public void DirectPartsGrowSoThatNoUploadNeedsMoreThanTenThousand(long configured, long size, long expected)
    {
        var partSize = S3DirectUpload.PartSize(configured, size);
        Assert.Equal(expected, partSize);
        Assert.True((size + partSize - 1) / partSize <= 10_000);
    }

    private async Task<List<UploadId>> ListUploadIdsAsync(S3BlobStore store)
    {
        var ids = new List<UploadId>();
        await foreach (var upload in store.EnumerateUploadsAsync(Ct))
        {
            ids.Add(upload.Id);
        }

        return ids;
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    private S3BlobStore NewStore(string extra = "")
    {
        var store = new S3BlobStore(S3BlobsSetting.Parse(TestS3.Setting(_prefix, "&part-size-mb=5" + extra)));
        _stores.Add(store);
        return store;
    }
}
