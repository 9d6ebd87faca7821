using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth retention set|show|dry-run|rm</c> and <c>berth rm --model</c>: the dry run lists the versions the
/// policy selects, <c>berth gc</c> deletes exactly those, and a deleted model disappears at once.
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
        Assert.Contains("aliased versions: yes", (await admin.RunAsync("retention", "show", "keep")).Succeeded().Stdout, StringComparison.Ordinal);
        (await admin.RunAsync("retention", "set", "keep", "--older-than", "ninety")).Failed(2, "--older-than takes an age such as 90d");

        var dry = (await admin.RunAsync("retention", "dry-run", "keep")).Succeeded().Stdout;
        Assert.Contains("keep/fraud:2", dry, StringComparison.Ordinal);
        Assert.DoesNotContain("keep/fraud:1", dry, StringComparison.Ordinal);
        Assert.DoesNotContain("keep/fraud:3", dry, StringComparison.Ordinal);
        Assert.Contains("1 version (64 B) would be deleted", dry, StringComparison.Ordinal);

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
}
