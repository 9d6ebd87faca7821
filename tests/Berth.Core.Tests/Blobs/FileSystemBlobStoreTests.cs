using Berth.Contracts.Naming;
using Berth.Core.Blobs;
using Berth.Testing.Blobs;
using Microsoft.Extensions.Options;

namespace Berth.Core.Tests.Blobs;

public sealed class FileSystemBlobStoreTests : BlobStoreConformanceTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"berth-store-{Guid.NewGuid():N}");

    protected override Task<IBlobStore> CreateStoreAsync() =>
        Task.FromResult<IBlobStore>(new FileSystemBlobStore(Options.Create(new FileSystemBlobStoreOptions { Root = _root })));

    protected override Task DeleteStoreAsync()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task BlobsLiveUnderTheirDigestInTwoLevelFolders()
    {
        var bytes = RandomBytes(64, 7);
        await PutAsync(bytes);
        var hex = Digest.Compute(bytes).Hex;
        Assert.True(File.Exists(Path.Combine(_root, "blobs", "sha256", hex[..2], hex)));
    }

    [Fact]
    public async Task LargeUploadsCrossingTheWritebackWindowArriveIntact()
    {
        var bytes = RandomBytes(40 * 1024 * 1024, 8);
        var id = UploadId.New();
        await using (var writer = await Store.OpenUploadWriterAsync(id, 0, Ct))
        {
            for (var offset = 0; offset < bytes.Length; offset += 1024 * 1024)
            {
                await writer.WriteAsync(bytes.AsMemory(offset, 1024 * 1024), Ct);
            }

            await writer.CommitAsync(Digest.Compute(bytes), Ct);
        }

        Assert.Equal(bytes, await ReadAsync(Digest.Compute(bytes), 0));
    }

    [Fact]
    public async Task FilesInTheStoreThatAreNotBlobsAreIgnoredWhenListing()
    {
        Directory.CreateDirectory(Path.Combine(_root, "blobs", "sha256", "zz"));
        await File.WriteAllTextAsync(Path.Combine(_root, "blobs", "sha256", "zz", "not-a-digest"), "x", Ct);
        await PutAsync(RandomBytes(10, 9));
        Assert.Single(await Store.EnumerateAsync(Ct).ToListAsync(Ct));
    }
}
