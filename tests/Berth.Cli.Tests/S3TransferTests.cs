using Berth.Cli.Tests.Support;
using Berth.Testing.S3;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth push</c> and <c>berth pull</c> against a server whose S3 store redirects uploads and downloads: the file's
/// parts go straight into the bucket, the server verifies them, and the pull comes back byte for byte.
/// </summary>
[Trait("Database", "both")]
public sealed class S3TransferTests : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;

    private readonly string _prefix = TestS3.NewPrefix("cli-direct");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await TestS3.EnsureBucketAsync(Ct);

    public async ValueTask DisposeAsync() => await TestS3.DeletePrefixAsync(_prefix, CancellationToken.None);

    [Fact]
    public async Task APushWritesStraightToTheBucketAndThePullMatches()
    {
        var blobs = TestS3.Setting(_prefix, "&part-size-mb=5&upload=redirect&download=redirect");
        // Without the OCI manifests built in the background, whose config blobs it would count too (or not, by timing).
        await using var server = await ServerProcess.StartAsync(fsync: false, Ct, new Dictionary<string, string> { ["BERTH_BLOBS"] = blobs, ["BERTH_Oci__BuildInBackground"] = "false" });
        using var user = new CliUser();
        await user.LoginAsync(server);
        // 21 MiB: above the CLI's 16 MiB limit for one-request uploads, so it opens a session and asks for part URLs.
        using var model = new ModelFolder(("weights.bin", (21 * MiB) + 99), ("config.json", 200));

        (await user.RunAsync("push", model.Root, "acme/direct")).Succeeded();
        var pulled = Path.Combine(user.Root, "pulled");
        (await user.RunAsync("pull", "acme/direct:1", "-o", pulled)).Succeeded();
        ModelFolder.AssertSameTree(model.Root, pulled);

        var keys = (await TestS3.ListAsync(_prefix, Ct)).Select(o => o.Key).ToList();
        Assert.Equal(2, keys.Count(k => k.Contains("/blobs/sha256/", StringComparison.Ordinal)));
        Assert.DoesNotContain(keys, k => k.Contains("/uploads/", StringComparison.Ordinal));

        // The 21 MiB never passed through the server: what it counted as received is the small file only.
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(server.Url + "/metrics", Ct);
        var received = metrics.Split('\n').Single(l => l.StartsWith("berth_blob_received_bytes", StringComparison.Ordinal) && !l.StartsWith('#'));
        Assert.InRange(double.Parse(received.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture), 0, MiB);
    }
}
