using System.Diagnostics;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// berth pull resumes: a download that stopped (the CLI killed or interrupted, the connection dropped, the server
/// restarted) leaves a .berth-partial file; the next pull fetches only the missing range (counted by a proxy in
/// front of the server) and verifies the whole file. What cannot be trusted is discarded, and nothing misleading
/// is left behind.
/// </summary>
public sealed class PullResumeTests(ServerFixture fixture)
{
    private const int MiB = 1024 * 1024;
    private const int Size = 16 * MiB;

    /// <summary>Headers and the version's JSON, on top of the file's bytes.</summary>
    private const int Overhead = 64 * 1024;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private ServerProcess Server => fixture.Server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task APartialDownloadInTheFolderIsResumedAndOnlyTheRestIsFetched()
    {
        using var user = User(Server);
        using var model = new ModelFolder(("w.bin", 8 * MiB));
        (await user.RunAsync("push", model.Root, "resume/seeded")).Succeeded();
        var output = Path.Combine(user.Root, "out");
        Directory.CreateDirectory(output);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(model.Root, "w.bin"), Ct);
        await File.WriteAllBytesAsync(Path.Combine(output, "w.bin.berth-partial"), bytes[..MiB], Ct);

        await using var proxy = new LoadBalancer(new Uri(Server.Url), bytesPerSecond: 0);
        var pulled = (await user.RunWithAsync(Via(proxy), "pull", "resume/seeded", "-o", output, "--json")).Succeeded().Json;

        Assert.Equal(MiB, pulled.GetProperty("bytesResumed").GetInt64());
        Assert.Equal(7 * MiB, pulled.GetProperty("bytesDownloaded").GetInt64());
        Assert.Equal(8 * MiB, pulled.GetProperty("bytesWritten").GetInt64());
        Assert.InRange(proxy.BytesDown, 7 * MiB, (7 * MiB) + Overhead);
        ModelFolder.AssertSameTree(model.Root, output);

        // In plain text too, and a second pull has nothing left to fetch.
        var again = (await user.RunAsync("pull", "resume/seeded", "-o", output)).Succeeded().Stdout;
        Assert.Matches(@"kept:\s+1 file", again);
    }

    [Fact]
    public async Task APullKilledMidDownloadResumesWhereItStopped()
    {
        using var user = User(Server);
        using var model = new ModelFolder(("w.bin", Size));
        (await user.RunAsync("push", model.Root, "resume/killed")).Succeeded();
        var output = Path.Combine(user.Root, "out");
        await using var proxy = new LoadBalancer(new Uri(Server.Url), bytesPerSecond: 0) { DownBytesPerSecond = 2 * MiB };

        user.Environment["BERTH_URL"] = proxy.Url;
        await using (var pull = user.Start("pull", "resume/killed", "-o", output))
        {
            await WaitForPartialAsync(output, atLeast: 3 * MiB);
            await pull.KillAsync();
        }

        var kept = new FileInfo(Partial(output)).Length;
        Assert.InRange(kept, 3 * MiB, Size - 1);
        Assert.False(File.Exists(Path.Combine(output, "w.bin")));

        await AssertResumesAsync(user, proxy, "resume/killed", output, kept, model.Root);
    }

    [Fact]
    public async Task APullInterruptedWithCtrlCKeepsItsPartialDownloadsForTheNextPull()
    {
        using var user = User(Server);
        using var model = new ModelFolder(("w.bin", Size));
        (await user.RunAsync("push", model.Root, "resume/interrupted")).Succeeded();
        var output = Path.Combine(user.Root, "out");
        await using var proxy = new LoadBalancer(new Uri(Server.Url), bytesPerSecond: 0) { DownBytesPerSecond = 2 * MiB };

        user.Environment["BERTH_URL"] = proxy.Url;
        await using (var pull = user.Start("pull", "resume/interrupted", "-o", output))
        {
            await WaitForPartialAsync(output, atLeast: 3 * MiB);
            await pull.InterruptAsync();
            var (exitCode, _, stderr) = await pull.WaitForExitAsync();
            Assert.Equal(130, exitCode);
            Assert.Contains("run the same pull again to resume", string.Join('\n', stderr), StringComparison.Ordinal);
        }

        var kept = new FileInfo(Partial(output)).Length;
        Assert.InRange(kept, 3 * MiB, Size - 1);
        await AssertResumesAsync(user, proxy, "resume/interrupted", output, kept, model.Root);
    }

    [Fact]
    public async Task APullWhoseConnectionDropsCarriesOnFromWhatItHas()
    {
        using var user = User(Server);
        using var model = new ModelFolder(("w.bin", Size));
        (await user.RunAsync("push", model.Root, "resume/dropped")).Succeeded();
        var output = Path.Combine(user.Root, "out");
        await using var proxy = new LoadBalancer(new Uri(Server.Url), bytesPerSecond: 0) { DownBytesPerSecond = 2 * MiB };

        user.Environment["BERTH_URL"] = proxy.Url;
        await using var pull = user.Start("pull", "resume/dropped", "-o", output, "--json");
        await WaitForPartialAsync(output, atLeast: 6 * MiB);
        proxy.DropConnections();
        proxy.DownBytesPerSecond = 0;
        var (exitCode, _, stderr) = await pull.WaitForExitAsync();

        Assert.True(exitCode == 0, $"exit {exitCode}: {string.Join('\n', stderr)}");
        ModelFolder.AssertSameTree(model.Root, output);

        // The rest was fetched with a Range request: only what was in flight when the connection broke (read, not yet
        // written: up to a 1 MiB buffer and what the sockets held) came twice, not the 6 MiB already written.
        Assert.InRange(proxy.BytesDown, Size, Size + (2 * MiB) + Overhead);
    }

    [Fact]
    public async Task APullResumesAfterTheServerIsKilledAndRestarted()
    {
        var first = await ServerProcess.StartAsync(Ct);
        using var user = User(first);
        using var model = new ModelFolder(("w.bin", Size));
        (await user.RunAsync("push", model.Root, "resume/restart")).Succeeded();
        var output = Path.Combine(user.Root, "out");
        await using var proxy = new LoadBalancer(new Uri(first.Url), bytesPerSecond: 0) { DownBytesPerSecond = 2 * MiB };

        user.Environment["BERTH_URL"] = proxy.Url;
        await using (var pull = user.Start("pull", "resume/restart", "-o", output))
        {
            await WaitForPartialAsync(output, atLeast: 3 * MiB);
            await first.KillAsync();

            // The pull retries for a while, then gives up; what it has stays for the next one.
            var (exitCode, _, stderr) = await pull.WaitForExitAsync();
            Assert.True(exitCode == 1, $"exit {exitCode}: {string.Join('\n', stderr)}");
        }

        var kept = new FileInfo(Partial(output)).Length;
        Assert.InRange(kept, 3 * MiB, Size - 1);
        await using var second = await first.RestartAsync(Ct);
        await AssertResumesAsync(user, proxy, "resume/restart", output, kept, model.Root);
    }

    [Fact]
    public async Task APartialDownloadWithACorruptPrefixIsDiscardedAndTheFileDownloadedAgain()
    {
        using var user = User(Server);
        using var model = new ModelFolder(("w.bin", 4 * MiB));
        (await user.RunAsync("push", model.Root, "resume/corrupt")).Succeeded();
        var output = Path.Combine(user.Root, "out");
        Directory.CreateDirectory(output);
        await File.WriteAllBytesAsync(Partial(output), new byte[MiB], Ct);

        var result = await user.RunAsync("pull", "resume/corrupt", "-o", output, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("warning: the partial download of 'w.bin'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("did not verify: it was discarded and the file downloaded again", result.Stderr, StringComparison.Ordinal);
        var warning = Assert.Single(result.Json.GetProperty("warnings").EnumerateArray());
        Assert.Equal("partial_discarded", warning.GetProperty("kind").GetString());
        Assert.Equal(0, result.Json.GetProperty("bytesResumed").GetInt64());
        ModelFolder.AssertSameTree(model.Root, output);
    }

    [Fact]
    public async Task ADownloadThatFailsVerificationLeavesNothingBehind()
    {
        using var user = User(Server);
        using var model = new ModelFolder();
        var file = model.Write("w.bin", 300_000, seed: Random.Shared.Next());
        (await user.RunAsync("push", model.Root, "resume/rotten")).Succeeded();

        // The stored blob rots on the server's disk (same size, other bytes): the server serves what it has.
        var hex = ModelFolder.Sha256(await File.ReadAllBytesAsync(file, Ct))["sha256:".Length..];
        var blob = Directory.EnumerateFiles(Path.Combine(Server.DataDirectory, "store", "blobs"), hex, SearchOption.AllDirectories).Single();
        File.SetUnixFileMode(blob, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllBytesAsync(blob, new byte[300_000], Ct);

        var output = Path.Combine(user.Root, "out");
        (await user.RunAsync("pull", "resume/rotten", "-o", output)).Failed(1, "the download was corrupted and has been discarded");

        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
    }

    private static async Task AssertResumesAsync(CliUser user, LoadBalancer proxy, string reference, string output, long kept, string expected)
    {
        proxy.DownBytesPerSecond = 0;
        var before = proxy.BytesDown;
        var pulled = (await user.RunAsync("pull", reference, "-o", output, "--json")).Succeeded().Json;
        Assert.Equal(kept, pulled.GetProperty("bytesResumed").GetInt64());
        Assert.Equal(Size - kept, pulled.GetProperty("bytesDownloaded").GetInt64());
        Assert.InRange(proxy.BytesDown - before, Size - kept, Size - kept + Overhead);
        ModelFolder.AssertSameTree(expected, output);
    }

    private static CliUser User(ServerProcess server)
    {
        var user = new CliUser();
        user.Environment["BERTH_URL"] = server.Url;
        user.Environment["BERTH_TOKEN"] = server.AdminToken;
        return user;
    }

    private static Dictionary<string, string?> Via(LoadBalancer proxy) => new() { ["BERTH_URL"] = proxy.Url };

    private static string Partial(string output) => Path.Combine(output, "w.bin.berth-partial");

    private static async Task WaitForPartialAsync(string output, long atLeast)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Partial(output)) || new FileInfo(Partial(output)).Length < atLeast)
        {
            Assert.True(clock.Elapsed < Deadline, $"the partial download did not reach {atLeast} bytes");
            await Task.Delay(20, Ct);
        }
    }
}
