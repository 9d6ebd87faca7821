using System.Security.Cryptography;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;

namespace Berth.Testing.Blobs;

/// <summary>
/// The contract every blob store must keep. A backend's test class derives from this one and only
/// says how to create (and clean up) a store.
/// </summary>
public abstract class BlobStoreConformanceTests : IAsyncLifetime
{
    private IBlobStore? _store;

    protected IBlobStore Store => _store ?? throw new InvalidOperationException("The store is not created yet.");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<IBlobStore> CreateStoreAsync();

    protected abstract Task DeleteStoreAsync();

    public async ValueTask InitializeAsync() => _store = await CreateStoreAsync();

    public async ValueTask DisposeAsync() => await DeleteStoreAsync();

    [Fact]
    public async Task AnUploadCommittedUnderItsDigestCanBeReadBackFromAnyOffset()
    {
        var bytes = RandomBytes(300_000, 1);
        var digest = Digest.Compute(bytes);
        var id = UploadId.New();
        await using (var writer = await Store.OpenUploadWriterAsync(id, 0, Ct))
        {
            await writer.WriteAsync(bytes.AsMemory(0, 100_000), Ct);
            await writer.WriteAsync(bytes.AsMemory(100_000), Ct);
            Assert.Equal(bytes.Length, writer.Length);
            Assert.Equal(BlobPutResult.Created, await writer.CommitAsync(digest, Ct));
        }

        var stat = await Store.StatAsync(digest, Ct);
        Assert.Equal(bytes.Length, stat!.Size);
        Assert.Equal(bytes, await ReadAsync(digest, 0));
        Assert.Equal(bytes[123_456..], await ReadAsync(digest, 123_456));
        Assert.Equal(0, await Store.GetUploadLengthAsync(id, Ct));
    }

    [Fact]
    public async Task CommittingBytesTheStoreAlreadyHoldsKeepsOneCopy()
    {
        var bytes = RandomBytes(5000, 2);
        var digest = Digest.Compute(bytes);
        Assert.Equal(BlobPutResult.Created, await PutAsync(bytes));
        Assert.Equal(BlobPutResult.AlreadyExists, await PutAsync(bytes));
        Assert.Single(await Store.EnumerateAsync(Ct).Where(b => b.Digest == digest).ToListAsync(Ct));
        Assert.Empty(await Store.EnumerateUploadsAsync(Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task AnUploadResumesAtItsLengthAndRefusesAnyOtherOffset()
    {
        var bytes = RandomBytes(10_000, 3);
        var id = UploadId.New();
        await using (var writer = await Store.OpenUploadWriterAsync(id, 0, Ct))
        {
            await writer.WriteAsync(bytes.AsMemory(0, 4000), Ct);
            await writer.FlushAsync(Ct);
        }

        Assert.Equal(4000, await Store.GetUploadLengthAsync(id, Ct));
        var conflict = await Assert.ThrowsAsync<UploadConflictException>(() => Store.OpenUploadWriterAsync(id, 3000, Ct));
        Assert.False(conflict.Busy);
        Assert.Equal(4000, conflict.CurrentLength);

        await using (var writer = await Store.OpenUploadWriterAsync(id, 4000, Ct))
        {
            await using (var prefix = await writer.OpenReadAsync(TestContext.Current.CancellationToken))
            {
                var read = new MemoryStream();
                await prefix.CopyToAsync(read, Ct);
                Assert.Equal(bytes[..4000], read.ToArray());
            }

            await writer.WriteAsync(bytes.AsMemory(4000), Ct);
            await writer.CommitAsync(Digest.Compute(bytes), Ct);
        }

        Assert.Equal(bytes, await ReadAsync(Digest.Compute(bytes), 0));
    }

    [Fact]
    public async Task OnlyOneWriterAtATimeMayHoldAnUpload()
    {
        var id = UploadId.New();
        await using var first = await Store.OpenUploadWriterAsync(id, null, Ct);
        var busy = await Assert.ThrowsAsync<UploadConflictException>(() => Store.OpenUploadWriterAsync(id, null, Ct));
        Assert.True(busy.Busy);
    }

    [Fact]
    public async Task DeletingAnUploadDiscardsItsBytes()
    {
        var id = UploadId.New();
        await using (var writer = await Store.OpenUploadWriterAsync(id, 0, Ct))
        {
            await writer.WriteAsync(RandomBytes(1000, 4), Ct);
            await writer.FlushAsync(Ct);
        }

        Assert.Contains(await Store.EnumerateUploadsAsync(Ct).ToListAsync(Ct), u => u.Id == id && u.Length == 1000);
        await Store.DeleteUploadAsync(id, Ct);
        Assert.Equal(0, await Store.GetUploadLengthAsync(id, Ct));
        Assert.DoesNotContain(await Store.EnumerateUploadsAsync(Ct).ToListAsync(Ct), u => u.Id == id);
    }

    [Fact]
    public async Task MissingBlobsAreReportedAsMissing()
    {
        var digest = Digest.Compute(RandomBytes(10, 5));
        Assert.Null(await Store.StatAsync(digest, Ct));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync(digest, 0, Ct));
        Assert.False(await Store.DeleteAsync(digest, Ct));
    }

    [Fact]
    public async Task DeletedBlobsAreGone()
    {
        var bytes = RandomBytes(100, 6);
        await PutAsync(bytes);
        Assert.True(await Store.DeleteAsync(Digest.Compute(bytes), Ct));
        Assert.Null(await Store.StatAsync(Digest.Compute(bytes), Ct));
    }

    [Fact]
    public async Task EmptyBlobsAreStoredToo()
    {
        Assert.Equal(BlobPutResult.Created, await PutAsync([]));
        Assert.Empty(await ReadAsync(Digest.Compute([]), 0));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("sha256:../../../etc/passwd0000000000000000000000000000000000000000000")]
    [InlineData("sha256:/etc/passwd")]
    public void NamesFromOutsideCanNeverBecomePaths(string hostile)
    {
        // Only validated digests and generated upload ids reach a store; both refuse anything else.
        Assert.False(Digest.TryParse(hostile, out _));
        Assert.False(UploadId.TryParse(hostile, out _));
    }

    protected async Task<BlobPutResult> PutAsync(byte[] bytes)
    {
        await using var writer = await Store.OpenUploadWriterAsync(UploadId.New(), 0, Ct);
        await writer.WriteAsync(bytes, Ct);
        return await writer.CommitAsync(Digest.Compute(bytes), Ct);
    }

    protected async Task<byte[]> ReadAsync(Digest digest, long offset)
    {
        await using var stream = await Store.OpenReadAsync(digest, offset, Ct);
        var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, Ct);
        return buffer.ToArray();
    }

    protected static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
