using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>berth run start|log|finish|show|files|register and berth runs, as a user types them.</summary>
public sealed class RunTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task ARunIsStartedLoggedIntoFinishedShownAndFound()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var model = "runs/m" + Guid.NewGuid().ToString("N")[..10];
        var started = (await user.RunAsync("run", "start", model, "--name", "first", "--param", "lr=0.01", "--tag", "team=risk")).Succeeded().Stdout.Trim();
        Assert.Matches($"^{model}/[a-z2-7]{{12}}$", started);

        (await user.RunAsync("run", "log", started, "loss=0.5", "acc=0.7")).Succeeded();
        (await user.RunAsync("run", "log", started, "loss=0.25")).Succeeded();
        (await user.RunAsync("run", "log", started, "loss=0.1", "--step", "10")).Succeeded();
        (await user.RunAsync("run", "log", started, "bad key=1")).Failed(2, "Invalid metric name");

        var shown = (await user.RunAsync("run", "show", started, "--json")).Succeeded().Json;
        var loss = shown.GetProperty("metrics").GetProperty("loss");
        Assert.Equal(3, loss.GetProperty("count").GetInt64());
        Assert.Equal(10, loss.GetProperty("lastStep").GetInt64());
        Assert.Equal(0.1, loss.GetProperty("last").GetDouble());
        Assert.Equal(0.5, loss.GetProperty("max").GetDouble());

        var table = (await user.RunAsync("run", "show", started)).Succeeded().Stdout;
        Assert.Contains("running", table, StringComparison.Ordinal);
        Assert.Contains("lr=0.01", table, StringComparison.Ordinal);

        (await user.RunAsync("run", "finish", started, "--status", "failed")).Succeeded();
        (await user.RunAsync("run", "log", started, "loss=1")).Failed(1, "(run_ended)");

        var other = (await user.RunAsync("run", "start", model, "--param", "lr=0.1")).Succeeded().Stdout.Trim();
        (await user.RunAsync("run", "log", other, "loss=0.9")).Succeeded();
        var found = (await user.RunAsync("runs", model, "--filter", "params.lr < 0.05 and status = 'failed'", "--json")).Succeeded().Json;
        Assert.Equal([started[(started.LastIndexOf('/') + 1)..]], found.EnumerateArray().Select(r => r.GetProperty("id").GetString()!));
        var sorted = (await user.RunAsync("runs", model, "--sort", "-metrics.loss")).Succeeded().Stdout;
        Assert.True(sorted.IndexOf(other[(other.LastIndexOf('/') + 1)..], StringComparison.Ordinal) < sorted.IndexOf(started[(started.LastIndexOf('/') + 1)..], StringComparison.Ordinal), sorted);
        (await user.RunAsync("run", "show", model + "/aaaaaaaaaaaa")).Failed(1, "(run_not_found)");
    }

    [Fact]
    public async Task ARunsFilesAreUploadedOnceListedAndRegisteredAsAVersionAndAPushCanNameTheRun()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        using var outputs = new ModelFolder(("model/weights.bin", 40_000), ("model/config.json", 200), ("plots/loss.png", 900));
        var model = "runs/f" + Guid.NewGuid().ToString("N")[..10];
        var run = (await user.RunAsync("run", "start", model, "--param", "lr=0.01")).Succeeded().Stdout.Trim();
        (await user.RunAsync("run", "log", run, "val_auc=0.93")).Succeeded();

        var first = (await user.RunAsync("run", "files", run, outputs.Root, "--json")).Succeeded().Json;
        Assert.Equal(3, first.GetProperty("filesUploaded").GetInt32());
        Assert.Equal(["model/config.json", "model/weights.bin", "plots/loss.png"], first.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()!));
        var again = (await user.RunAsync("run", "files", run, outputs.Root, "--json")).Succeeded().Json;
        Assert.Equal(0, again.GetProperty("filesUploaded").GetInt32());

        var listed = (await user.RunAsync("run", "files", run)).Succeeded().Stdout;
        Assert.Contains("model/weights.bin", listed, StringComparison.Ordinal);
        Assert.Contains("plots/loss.png", listed, StringComparison.Ordinal);

        var version = (await user.RunAsync("run", "register", run, "--path", "model/", "--version", "1.3.0", "--alias", "candidate", "--metric", "f1=0.8", "--json")).Succeeded().Json;
        Assert.Equal("ready", version.GetProperty("state").GetString());
        Assert.Equal(2, version.GetProperty("fileCount").GetInt32());
        Assert.Equal(0.93, version.GetProperty("metrics").GetProperty("val_auc").GetDouble());
        Assert.Equal(0.8, version.GetProperty("metrics").GetProperty("f1").GetDouble());
        Assert.Equal("0.01", version.GetProperty("params").GetProperty("lr").GetString());
        Assert.Equal(run[(run.LastIndexOf('/') + 1)..], version.GetProperty("lineage").GetProperty("runId").GetString());
        (await user.RunAsync("run", "register", run, "--version", "1.3.0")).Failed(1, "(version_exists)");
        (await user.RunAsync("run", "register", run, "--path", "nothing/")).Failed(1, "(empty_selection)");
        Assert.Contains("1 (1.3.0)", (await user.RunAsync("run", "show", run)).Succeeded().Stdout, StringComparison.Ordinal);

        // berth push --run: the run must be one of the model's.
        using var pushed = new ModelFolder(("m.bin", 500));
        var id = run[(run.LastIndexOf('/') + 1)..];
        (await user.RunAsync("push", pushed.Root, model, "--run", "aaaaaaaaaaaa")).Failed(1, "(run_not_found)");
        var push = (await user.RunAsync("push", pushed.Root, model, "--run", id, "--json")).Succeeded().Json;
        Assert.Equal(id, push.GetProperty("version").GetProperty("lineage").GetProperty("runId").GetString());
        var shown = (await user.RunAsync("run", "show", run, "--json")).Succeeded().Json;
        Assert.Equal([1, 2], shown.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("number").GetInt32()));
    }

    [Fact]
    public async Task ARunWhoseJobStoppedSendingHeartbeatsIsMarkedCrashedByTheServer()
    {
        // A server of its own: runs silent for 2 s crash, watched every second. Nothing in this process listens to
        // the watch, as in production (a watch that ran only when observed once passed every in-process test).
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ServerProcess.StartAsync(fsync: false, ct, new Dictionary<string, string>
        {
            ["BERTH_Runs__HeartbeatTimeout"] = "00:00:02",
            ["BERTH_Runs__WatchInterval"] = "00:00:01",
        });
        using var user = new CliUser();
        await user.LoginAsync(server);
        var run = (await user.RunAsync("run", "start", "runs/crash")).Succeeded().Stdout.Trim();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        string status;
        while ((status = (await user.RunAsync("run", "show", run, "--json")).Succeeded().Json.GetProperty("status").GetString()!) == "running" &&
               DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, ct);
        }

        Assert.Equal("crashed", status);
        (await user.RunAsync("run", "log", run, "loss=1")).Failed(1, "(run_ended)");
    }
}
