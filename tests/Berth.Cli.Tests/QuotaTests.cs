using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth quota set|show</c> and the usage column of <c>berth ls</c>: a server administrator sets a namespace's
/// quotas in human units, a push over them fails before uploading, and the listing shows usage against the quota.
/// </summary>
public sealed class QuotaTests
{
    [Fact]
    public async Task AnAdministratorSetsQuotasThatPushesMustFitAndLsShowsTheUsage()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await ServerProcess.StartAsync(cancellationToken);
        using var admin = new CliUser();
        await admin.LoginAsync(server);
        using var folder = new ModelFolder();
        folder.Write("w.bin", 64, seed: 1);
        (await admin.RunAsync("push", folder.Root, "acme/fraud")).Succeeded();

        var set = (await admin.RunAsync("quota", "set", "acme", "--max-bytes", "100GiB", "--max-versions", "10000")).Succeeded().Stdout;
        Assert.Contains("bytes:    64 B of 100 GiB (0%)", set, StringComparison.Ordinal);
        Assert.Contains("versions: 1 of 10000 (0%)", set, StringComparison.Ordinal);
        var shown = (await admin.RunAsync("quota", "show", "acme", "--json")).Succeeded().Json;
        Assert.Equal(100L * 1024 * 1024 * 1024, shown.GetProperty("maxBytes").GetInt64());
        Assert.Equal(64, shown.GetProperty("usedBytes").GetInt64());

        // A quota left out stays; the version quota is now full, so the next push is refused before any upload.
        (await admin.RunAsync("quota", "set", "acme", "--max-versions", "1")).Succeeded();
        Assert.Equal(100L * 1024 * 1024 * 1024, (await admin.RunAsync("quota", "show", "acme", "--json")).Succeeded().Json.GetProperty("maxBytes").GetInt64());
        folder.Write("w.bin", 64, seed: 2);
        (await admin.RunAsync("push", folder.Root, "acme/fraud")).Failed(1, "quota_exceeded");

        var listing = (await admin.RunAsync("ls")).Succeeded().Stdout;
        var row = listing.Split('\n').Single(l => l.StartsWith("acme ", StringComparison.Ordinal));
        Assert.Contains("1 / 1", row, StringComparison.Ordinal);
        Assert.Contains("64 B / 100 GiB", row, StringComparison.Ordinal);

        (await admin.RunAsync("quota", "set", "acme", "--max-bytes", "lots")).Failed(2, "--max-bytes takes a size such as 100GiB");
        (await admin.RunAsync("quota", "set", "acme")).Failed(2, "--max-bytes, --max-versions or both");
        (await admin.RunAsync("quota", "set", "acme", "--max-versions", "unlimited")).Succeeded();
        (await admin.RunAsync("push", folder.Root, "acme/fraud")).Succeeded();
        Assert.Contains("versions: 2 (unlimited)", (await admin.RunAsync("quota", "show", "acme")).Succeeded().Stdout, StringComparison.Ordinal);
    }
}
