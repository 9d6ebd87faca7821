using System.Diagnostics;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>push and pull: what they transfer, what they report, and when they show progress.</summary>
public sealed class TransferTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private CliUser User()
    {
        var user = new CliUser();
        user.Environment["BERTH_URL"] = Server.Url;
        user.Environment["BERTH_TOKEN"] = Server.AdminToken;
        return user;
    }

    [Fact]
    public async Task RepushingAnUnchangedFolderUploadsNothing()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 2 * 1024 * 1024), ("README.md", 1000), ("nested/deeper/a.txt", 10));

        var first = (await user.RunAsync("push", model.Root, "transfer/repush", "--json")).Succeeded().Json;
        var second = (await user.RunAsync("push", model.Root, "transfer/repush", "--json", "--allow-unchanged")).Succeeded().Json;

        Assert.Equal(3, first.GetProperty("filesUploaded").GetInt32());
        Assert.Equal(first.GetProperty("bytesTotal").GetInt64(), first.GetProperty("bytesUploaded").GetInt64());
        Assert.Equal(0, second.GetProperty("filesUploaded").GetInt32());
        Assert.Equal(0, second.GetProperty("bytesUploaded").GetInt64());
        Assert.Equal(3, second.GetProperty("filesPresent").GetInt32());
        Assert.Equal(first.GetProperty("version").GetProperty("manifestDigest").GetString(), second.GetProperty("version").GetProperty("manifestDigest").GetString());
        Assert.Equal(2, second.GetProperty("version").GetProperty("number").GetInt32());
        Assert.Equal("transfer/repush:1", second.GetProperty("sameContentAs").GetString());

        // One changed file: only that one is uploaded.
        model.Write("README.md", 1000, seed: 7);
        var third = (await user.RunAsync("push", model.Root, "transfer/repush", "--json")).Succeeded().Json;
        Assert.Equal(1, third.GetProperty("filesUploaded").GetInt32());
        Assert.Equal(1000, third.GetProperty("bytesUploaded").GetInt64());
        Assert.Equal(3, third.GetProperty("version").GetProperty("number").GetInt32());
    }

    [Fact]
    public async Task PushAndPullReportWhatTheyDidInPlainText()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 5000), ("config.json", 20));
        var output = Path.Combine(user.Root, "out");

        var push = (await user.RunAsync("push", model.Root, "transfer/text", "--version", "0.1.0")).Succeeded().Stdout;
        Assert.Contains("Pushed transfer/text:1 (0.1.0)", push, StringComparison.Ordinal);
        Assert.Contains("uploaded:", push, StringComparison.Ordinal);
        Assert.Contains("already present:", push, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', push);

        var pull = (await user.RunAsync("pull", "transfer/text:0.1.0", "-o", output)).Succeeded().Stdout;
        Assert.Contains("Pulled transfer/text:1 (0.1.0)", pull, StringComparison.Ordinal);
        Assert.Matches(@"written:\s+2 files", pull);
        Assert.Matches(@"kept:\s+0 files", pull);
        Assert.DoesNotContain('\u001b', pull);
        ModelFolder.AssertSameTree(model.Root, output);
    }

    [Fact]
    public async Task PullWithoutOutputWritesIntoAFolderNamedAfterTheModel()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 300));
        (await user.RunAsync("push", model.Root, "transfer/named")).Succeeded();

        (await user.RunAsync("pull", "transfer/named")).Succeeded();

        ModelFolder.AssertSameTree(model.Root, Path.Combine(user.Home, "named"));
    }

    [Fact]
    public async Task ASingleFileCanBePushed()
    {
        using var user = User();
        using var model = new ModelFolder(("model.onnx", 777));
        var pushed = (await user.RunAsync("push", Path.Combine(model.Root, "model.onnx"), "transfer/single", "--json")).Succeeded().Json;
        Assert.Equal(1, pushed.GetProperty("filesTotal").GetInt32());
        var files = (await user.RunAsync("show", "transfer/single:1", "--files", "--json")).Succeeded().Json.GetProperty("files");
        Assert.Equal("model.onnx", Assert.Single(files.EnumerateArray()).GetProperty("path").GetString());
    }

    [Fact]
    public async Task ProgressBarsAppearOnATerminalOnly()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 3 * 1024 * 1024));

        // Not a terminal (the test captures stderr): nothing on stderr.
        (await user.RunAsync("push", model.Root, "transfer/progress")).Succeeded();

        // A terminal, through script(1): progress on the terminal, but not with --json.
        Assert.True(File.Exists("/usr/bin/script"), "script(1) (Debian package bsdutils) is needed to run berth on a pseudo-terminal.");

        model.Write("weights.bin", 3 * 1024 * 1024, seed: 1);
        var terminal = await RunOnTerminalAsync(user, "push", model.Root, "transfer/progress");
        Assert.Contains("Uploading", terminal, StringComparison.Ordinal);
        Assert.Contains("MiB", terminal, StringComparison.Ordinal);
        Assert.Contains("Pushed transfer/progress:2", terminal, StringComparison.Ordinal);

        model.Write("weights.bin", 3 * 1024 * 1024, seed: 2);
        var json = await RunOnTerminalAsync(user, "push", model.Root, "transfer/progress", "--json");
        Assert.DoesNotContain("Uploading", json, StringComparison.Ordinal);
        Assert.Contains("\"filesUploaded\": 1", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APullShowsProgressOnlyForWorkThatHappens()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 3 * 1024 * 1024));
        (await user.RunAsync("push", model.Root, "transfer/pull-progress")).Succeeded();
        var output = Path.Combine(user.Root, "out");

        // Nothing there yet: nothing to hash, everything to download.
        var fresh = await RunOnTerminalAsync(user, "pull", "transfer/pull-progress", "-o", output);
        Assert.Contains("Downloading 1/1 files", fresh, StringComparison.Ordinal);
        Assert.DoesNotContain("Hashing", fresh, StringComparison.Ordinal);

        // Everything there: the file is hashed, nothing is downloaded.
        var again = await RunOnTerminalAsync(user, "pull", "transfer/pull-progress", "-o", output);
        Assert.Contains("Hashing 1/1 files", again, StringComparison.Ordinal);
        Assert.DoesNotContain("Downloading", again, StringComparison.Ordinal);
    }

    /// <summary>Runs berth on a pseudo-terminal (script -qec) and returns what the terminal showed.</summary>
    private static async Task<string> RunOnTerminalAsync(CliUser user, params string[] args)
    {
        var command = string.Join(' ', new[] { BerthExecutable.DotnetHost, BerthExecutable.DllPath }.Concat(args).Select(Quote));
        var info = new ProcessStartInfo("/usr/bin/script") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-qec", command, "/dev/null" })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in user.Environment)
        {
            info.Environment[name] = value;
        }

        info.Environment["TERM"] = "xterm-256color";
        info.Environment.Remove("NO_COLOR");
        var (exitCode, stdout, stderr) = await ProcessRunner.RunAsync(info, stdin: null, TestContext.Current.CancellationToken);
        Assert.True(exitCode == 0, $"script {command} → {exitCode}\n{stdout}\n{stderr}");
        return stdout;
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
