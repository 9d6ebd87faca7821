using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth retention set|show|dry-run|rm</c> and <c>berth rm --model</c>: the dry run lists the versions the
/// policy selects and those it keeps, with why, and the bytes deleting them frees (shared files counted once);
/// <c>berth gc</c> deletes exactly those, never a version live in an environment; a deleted model disappears at once.
/// </summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task APolicyIsSetShownPreviewedAppliedAndRemoved()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await ServerProcess.StartAsync(cancellationToken);
        using var admin = new CliUser();
        await admin.LoginAsync(server);
        for (var i = 0; i < 3; i++)
        {
            using var folder = new ModelFolder();
            folder.Write("w.bin", 64, seed: i);
            (await admin.RunAsync("push", folder.Root, "keep/fraud")).Succeeded();
        }

        (await admin.RunAsync("stage", "keep/fraud:1", "production")).Succeeded();
        var set = (await admin.RunAsync("retention", "set", "keep", "--keep-last", "1", "--keep-stages", "production,staging", "--keep-aliased", "--older-than", "0d")).Succeeded().Stdout;
        Assert.Contains("stages: production, staging", set, StringComparison.Ordinal);
        Assert.Contains("aliased versions, and versions live or deploying in an environment (always)", (await admin.RunAsync("retention", "show", "keep")).Succeeded().Stdout, StringComparison.Ordinal);
        (await admin.RunAsync("retention", "set", "keep", "--older-than", "ninety")).Failed(2, "--older-than takes an age such as 90d");

        var dry = (await admin.RunAsync("retention", "dry-run", "keep")).Succeeded().Stdout;
        Assert.Matches(@"keep/fraud:2 .* delete +older than 0d and not among the newest 1; nothing keeps it", dry);
        Assert.Matches(@"keep/fraud:1 .* keep +in stage production, which the policy keeps", dry);
        Assert.DoesNotContain("keep/fraud:3", dry, StringComparison.Ordinal);
        Assert.Contains("1 version would be deleted by the next 'berth gc', freeing 64 B once purged. 1 old version is kept.", dry, StringComparison.Ordinal);

        var gc = (await admin.RunAsync("gc", "--json")).Succeeded().Json;
        Assert.Equal(1, gc.GetProperty("retentionDeleted").GetInt32());
        var left = (await admin.RunAsync("ls", "keep/fraud", "--json")).Succeeded().Json.EnumerateArray().Select(v => v.GetProperty("number").GetInt32()).ToList();
        Assert.Equal([3, 1], left);
        Assert.Contains("Nothing would be deleted.", (await admin.RunAsync("retention", "dry-run", "keep/fraud")).Succeeded().Stdout, StringComparison.Ordinal);

        (await admin.RunAsync("retention", "rm", "keep")).Succeeded();
        (await admin.RunAsync("retention", "show", "keep")).Failed(1, "has no retention policy");

        (await admin.RunAsync("rm", "keep/fraud")).Failed(2, "--model");
        (await admin.RunAsync("rm", "keep/fraud", "--model")).Succeeded();
        (await admin.RunAsync("show", "keep/fraud")).Failed(1, "does not exist");
    }

    [Fact]
    public async Task AVersionRecordedLiveIsNeverDeletedAndTheBytesFreedCountSharedFilesOnce()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await ServerProcess.StartAsync(cancellationToken);
        using var admin = new CliUser();
        await admin.LoginAsync(server);
        for (var i = 0; i < 4; i++)
        {
            // Every version holds the same 150 KiB of weights and 16 bytes of its own.
            using var folder = new ModelFolder();
            folder.Write("weights.bin", 150 * 1024, seed: 99);
            folder.Write("own.bin", 16, seed: i);
            (await admin.RunAsync("push", folder.Root, "ops/fraud")).Succeeded();
        }

        (await admin.RunAsync("deploy", "record", "ops/fraud:1", "--env", "prod-eu", "--status", "live")).Succeeded();
        (await admin.RunAsync("retention", "set", "ops", "--keep-last", "1", "--older-than", "0d")).Succeeded();

        var dry = (await admin.RunAsync("retention", "dry-run", "ops")).Succeeded().Stdout;
        Assert.Matches(@"ops/fraud:1 .* keep +live in prod-eu", dry);
        Assert.Matches(@"ops/fraud:3 .* delete +older than 0d and not among the newest 1; nothing keeps it", dry);
        Assert.Matches(@"ops/fraud:2 .* delete ", dry);
        Assert.Contains("2 versions would be deleted by the next 'berth gc', freeing 32 B once purged (their files hold 300 KiB; the rest is shared with versions that stay). 1 old version is kept.",
            dry, StringComparison.Ordinal);
        var json = (await admin.RunAsync("retention", "dry-run", "ops", "--json")).Succeeded().Json;
        Assert.Equal(32, json.GetProperty("freedBytes").GetInt64());
        Assert.Equal("live in prod-eu", json.GetProperty("kept")[0].GetProperty("reasons")[0].GetString());

        var gc = (await admin.RunAsync("gc", "--json")).Succeeded().Json;
        Assert.Equal(["ops/fraud:3", "ops/fraud:2"], gc.GetProperty("retentionVersions").EnumerateArray().Select(v => v.GetString()));
        var left = (await admin.RunAsync("ls", "ops/fraud", "--json")).Succeeded().Json.EnumerateArray().Select(v => v.GetProperty("number").GetInt32()).ToList();
        Assert.Equal([4, 1], left);
        var deployed = (await admin.RunAsync("deploy", "ls", "ops/fraud", "--env", "prod-eu", "--json")).Succeeded().Json;
        Assert.Equal(("live", 1), (deployed[0].GetProperty("status").GetString(), deployed[0].GetProperty("version").GetInt32()));
    }
}
