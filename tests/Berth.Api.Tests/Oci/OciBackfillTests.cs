using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests.Oci;

/// <summary>
/// Every ready version gets its ModelPack manifest in the background, without anybody pulling it by tag: a version
/// committed while the server runs, one that was still uploading when the server first looked at it, and (after a
/// restart) versions older than the server's process.
/// </summary>
public sealed class OciBackfillTests
{
    private const string Background = "--Oci:BuildInBackground=true";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EachReadyVersionGetsItsManifestWhetherItWasCommittedLaterOrBeforeTheServerStarted()
    {
        var server = await TestServer.StartAsync(Background);
        try
        {
            using var folder = new ModelFolder(("model.bin", 4_000), ("config.json", 300));
            var first = (await server.Client.PushAsync(folder.Root, "acme", "fraud", new PushOptions(), cancellationToken: Ct)).Version;
            await ManifestOfAsync(server, first.Number);

            // A version still uploading while a later one is committed and built: it is built once it is ready too.
            var files = Directory.EnumerateFiles(folder.Root).Select(path => File.ReadAllBytes(path) is var bytes
                ? new FileEntry("renamed/" + Path.GetFileName(path), bytes.Length, ModelFolder.Sha256(bytes))
                : null!).ToList();
            var uploading = await server.Client.CreateVersionAsync("acme", "fraud", new CreateVersionRequest(files), cancellationToken: Ct);
            Assert.Equal(VersionStates.Pending, uploading.Version.State);
            folder.Write("README.md", 100);
            var later = (await server.Client.PushAsync(folder.Root, "acme", "fraud", new PushOptions(), cancellationToken: Ct)).Version;
            await ManifestOfAsync(server, later.Number);
            Assert.Equal(0, await ManifestCountAsync(server, uploading.Version.Number));
            await server.Client.CommitVersionAsync("acme", "fraud", uploading.Version.Number, Ct);
            await ManifestOfAsync(server, uploading.Version.Number);

            // Versions from before this process (as after an upgrade that brought OCI): built after a restart.
            server = await server.RestartAsync(null, async () =>
            {
                await server.Database.ExecuteAsync("DELETE FROM oci_blob_refs", Ct);
                Assert.Equal(3, await server.Database.ExecuteAsync("DELETE FROM oci_manifests", Ct));
            }, Background);
            foreach (var number in new[] { first.Number, later.Number, uploading.Version.Number })
            {
                await ManifestOfAsync(server, number);
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<long> ManifestCountAsync(TestServer server, int number) => Convert.ToInt64(
        await server.Database.ScalarAsync(
            "SELECT COUNT(*) FROM oci_manifests o JOIN versions v ON v.id = o.version_id WHERE v.number = @number AND o.repository = 'model'",
            Ct, ("number", number)),
        System.Globalization.CultureInfo.InvariantCulture);

    private static Task ManifestOfAsync(TestServer server, int number) =>
        Eventually.WaitForAsync(() => ManifestCountAsync(server, number), count => count == 1, $"The manifest of version {number}");
}
