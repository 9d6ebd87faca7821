using Berth.Api.Tests.Support;
using Berth.Client.Transfers;

namespace Berth.Api.Tests;

public sealed class BlobFolderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BlobsSetToAFolderPutTheStoreThereInsteadOfInTheDataFolder()
    {
        var folder = TempFolder.Create("berth-blobs");
        try
        {
            await using var server = await TestServer.StartAsync("--blobs", folder);
            using var model = new ModelFolder(("weights.bin", 5000));
            await server.Client.PushAsync(model.Root, "acme", "elsewhere", new PushOptions(), cancellationToken: Ct);

            var hex = ModelFolder.Sha256(await File.ReadAllBytesAsync(Path.Combine(model.Root, "weights.bin"), Ct))["sha256:".Length..];
            Assert.True(File.Exists(Path.Combine(folder, "blobs", "sha256", hex[..2], hex)));
            Assert.False(Directory.Exists(Path.Combine(server.DataDirectory, "store")));
        }
        finally
        {
            TempFolder.Delete(folder);
        }
    }
}
