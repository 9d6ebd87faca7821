using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth fsck</c> as an operator runs it: a blob corrupted on disk is reported with the versions that use it (exit 1);
/// <c>--quarantine</c> makes <c>berth pull</c> fail with <c>blob_corrupt</c> and <c>berth show</c> say so; once the bytes
/// are put back, the next fsck lifts the quarantine (exit 0) and the pull works again.
/// </summary>
public sealed class FsckTests
{
    [Fact]
    public async Task ACorruptBlobIsReportedQuarantinedAndReleasedOnceRestored()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await ServerProcess.StartAsync(cancellationToken);
        using var admin = new CliUser();
        await admin.LoginAsync(server);
        using var model = new ModelFolder(("weights.bin", 4000), ("config.json", 300));
        (await admin.RunAsync("push", model.Root, "acme/scrub")).Succeeded();
        (await admin.RunAsync("push", model.Root, "acme/copy")).Succeeded();
        var original = await File.ReadAllBytesAsync(Path.Combine(model.Root, "weights.bin"), cancellationToken);
        var digest = ModelFolder.Sha256(original);
        var blob = Path.Combine(server.DataDirectory, "store", "blobs", "sha256", digest[7..9], digest[7..]);
        var damaged = (byte[])original.Clone();
        damaged[17] ^= 0x5A;
        await File.WriteAllBytesAsync(blob, damaged, cancellationToken);

        var found = await admin.RunAsync("fsck");
        Assert.True(found.ExitCode == 1, found.ToString());
        Assert.Contains($"digest_mismatch {digest}: The stored bytes hash to {ModelFolder.Sha256(damaged)}: they are corrupt.", found.Stdout, StringComparison.Ordinal);
        Assert.Contains("  used by acme/copy:1, acme/scrub:1", found.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 problem: 0 missing, 0 of the wrong size, 1 corrupt, 0 stray.", found.Stdout, StringComparison.Ordinal);
        Assert.Contains("Run 'berth fsck --quarantine'", found.Stdout, StringComparison.Ordinal);

        var quarantined = await admin.RunAsync("fsck", "--quarantine", "--json");
        Assert.Equal(1, quarantined.ExitCode);
        var lines = quarantined.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var problem = Assert.Single(lines, l => l.GetProperty("type").GetString() == "problem").GetProperty("problem");
        Assert.True(problem.GetProperty("quarantined").GetBoolean());
        Assert.Equal(1, lines[^1].GetProperty("report").GetProperty("quarantined").GetInt32());

        using var output = new ModelFolder();
        (await admin.RunAsync("pull", "acme/scrub:1", "-o", output.Root)).Failed(1, "(blob_corrupt)");
        Assert.Matches(@"quarantined: +weights\.bin: stored bytes missing or corrupt", (await admin.RunAsync("show", "acme/scrub:1")).Succeeded().Stdout);

        await File.WriteAllBytesAsync(blob, original, cancellationToken);
        var healthy = (await admin.RunAsync("fsck")).Succeeded().Stdout;
        Assert.Contains("No problems found.", healthy, StringComparison.Ordinal);
        Assert.Contains($"Released {digest}: its bytes are whole again.", healthy, StringComparison.Ordinal);
        using var again = new ModelFolder();
        (await admin.RunAsync("pull", "acme/scrub:1", "-o", again.Root)).Succeeded();
        ModelFolder.AssertSameTree(model.Root, again.Root);
    }
}
