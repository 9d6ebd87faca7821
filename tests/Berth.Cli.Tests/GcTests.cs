using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth gc --dry-run</c> and <c>berth gc</c> against a server whose purge delay is zero: the dry run lists
/// what would go and changes nothing; the run deletes exactly that and keeps the blob another version shares.
/// </summary>
[Trait("Database", "both")]
public sealed class GcTests
{
    [Fact]
    public async Task TheDryRunListsWhatWouldGoAndTheRunDeletesItKeepingSharedBlobs()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await ServerProcess.StartAsync(fsync: false, cancellationToken,
            // Without the OCI manifests built in the background, whose config blobs a collection would also delete (or not, by timing).
            new Dictionary<string, string> { ["BERTH_Registry__PurgeDelay"] = "00:00:00", ["BERTH_Oci__BuildInBackground"] = "false" });
        using var admin = new CliUser();
        await admin.LoginAsync(server);
        using var first = new ModelFolder(("shared.bin", 3000), ("own.bin", 1234));
        using var second = new ModelFolder(("shared.bin", 3000));
        (await admin.RunAsync("push", first.Root, "acme/gc")).Succeeded();
        (await admin.RunAsync("push", second.Root, "acme/gc")).Succeeded();
        (await admin.RunAsync("rm", "acme/gc:1")).Succeeded();

        // Every blob past the grace period (an hour by default), as if pushed yesterday.
        await server.Database.ExecuteAsync("UPDATE blobs SET created_at = @at, last_used_at = NULL", cancellationToken, ("at", DateTime.UtcNow.AddDays(-1)));

        var dry = (await admin.RunAsync("gc", "--dry-run")).Succeeded().Stdout;
        Assert.Contains("1 deleted version would be purged", dry, StringComparison.Ordinal);
        Assert.Contains("1 unreferenced blob (1.2 KiB) would be deleted", dry, StringComparison.Ordinal);
        Assert.Contains("Dry run: nothing was changed.", dry, StringComparison.Ordinal);
        var listed = (await admin.RunAsync("gc", "--dry-run", "--json")).Succeeded().Json;
        Assert.Equal(1234, listed.GetProperty("bytes").GetInt64());
        var digest = Assert.Single(listed.GetProperty("digests").EnumerateArray()).GetString();

        var run = (await admin.RunAsync("gc", "--json")).Succeeded().Json;
        Assert.True(run.GetProperty("swept").GetBoolean());
        Assert.Equal(digest, Assert.Single(run.GetProperty("digests").EnumerateArray()).GetString());
        Assert.Contains("0 unreferenced blobs (0 B) were deleted", (await admin.RunAsync("gc")).Succeeded().Stdout, StringComparison.Ordinal);

        using var pulled = new ModelFolder();
        (await admin.RunAsync("pull", "acme/gc:2", "-o", pulled.Root)).Succeeded();
        ModelFolder.AssertSameTree(second.Root, pulled.Root);
    }

    [Fact]
    public async Task EverySummaryNamesTheVersionsRetentionDeletesAndTextAndJsonAgree()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await ServerProcess.StartAsync(cancellationToken);
        using var admin = new CliUser();
        await admin.LoginAsync(server);
        for (var i = 0; i < 3; i++)
        {
            using var folder = new ModelFolder();
            folder.Write("w.bin", 100, seed: i);
            (await admin.RunAsync("push", folder.Root, "acme/old")).Succeeded();
        }

        (await admin.RunAsync("retention", "set", "acme", "--keep-last", "1", "--older-than", "0d")).Succeeded();

        var dry = (await admin.RunAsync("gc", "--dry-run")).Succeeded().Stdout;
        Assert.Contains("2 versions would be deleted by retention policies (freeing 200 B once purged; 'berth retention dry-run' says why):\n  acme/old:2\n  acme/old:1\n",
            dry.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("Dry run: nothing was changed.", dry, StringComparison.Ordinal);
        var dryJson = (await admin.RunAsync("gc", "--dry-run", "--json")).Succeeded().Json;
        Assert.Equal(2, dryJson.GetProperty("retentionDeleted").GetInt32());
        Assert.Equal(["acme/old:2", "acme/old:1"], dryJson.GetProperty("retentionVersions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(200, dryJson.GetProperty("retentionFreedBytes").GetInt64());
        Assert.Equal(3, (await admin.RunAsync("ls", "acme/old", "--json")).Succeeded().Json.GetArrayLength());

        var run = (await admin.RunAsync("gc")).Succeeded().Stdout;
        Assert.Contains("2 versions were deleted by retention policies (freeing 200 B once purged; 'berth retention dry-run' says why):\n  acme/old:2\n  acme/old:1\n",
            run.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Equal(1, (await admin.RunAsync("ls", "acme/old", "--json")).Succeeded().Json.GetArrayLength());
        Assert.Contains("0 versions were deleted by retention policies\n", (await admin.RunAsync("gc")).Succeeded().Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }
}
