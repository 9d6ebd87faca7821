using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>berth run compare and berth run exec, as a user types them.</summary>
public sealed class RunExecTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Id(string reference) => reference[(reference.LastIndexOf('/') + 1)..];

    [Fact]
    public async Task CompareShowsTheParamsThatDifferAndMarksTheBestFinalMetric()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var model = "runs/c" + Guid.NewGuid().ToString("N")[..10];
        async Task<string> StartAsync(string name, string lr, params string[] metrics)
        {
            var run = (await user.RunAsync("run", "start", model, "--name", name, "--param", "lr=" + lr, "--param", "batch=64")).Succeeded().Stdout.Trim();
            (await user.RunAsync(["run", "log", run, .. metrics])).Succeeded();
            (await user.RunAsync("run", "finish", run)).Succeeded();
            return run;
        }

        var a = await StartAsync("slow", "0.01", "val_loss=0.40", "auc=0.90");
        var b = await StartAsync("fast", "0.1", "val_loss=0.30", "auc=0.93");
        var c = await StartAsync("diverged", "1", "val_loss=NaN");

        // The first run by its reference, the others by bare ids of the same model.
        var table = (await user.RunAsync("run", "compare", a, Id(b), Id(c))).Succeeded().Stdout;
        var lines = table.Split('\n');
        Assert.Contains($"3 runs of {model}", lines[0], StringComparison.Ordinal);
        Assert.Matches("^\\s+slow\\s+fast\\s+diverged$", lines[1]);
        Assert.Matches($"^id\\s+{Id(a)}\\s+{Id(b)}\\s+{Id(c)}$", lines[2]);
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, "^  lr\\s+0\\.01\\s+0\\.1\\s+1$"));
        Assert.DoesNotContain(lines, l => l.StartsWith("  batch", StringComparison.Ordinal));
        Assert.Contains("Same in every run: batch=64.", table, StringComparison.Ordinal);
        // Lower is better for a loss, higher for an AUC; NaN and a missing metric are never best.
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, "^  val_loss \\(lower is better\\)\\s+0\\.4\\s+0\\.3 \\*\\s+NaN$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, "^  auc \\(higher is better\\)\\s+0\\.9\\s+0\\.93 \\*\\s+-$"));

        var json = (await user.RunAsync("run", "compare", a, b, c, "--json")).Succeeded().Json;
        Assert.Equal([Id(a), Id(b), Id(c)], json.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()!));
        var parameters = json.GetProperty("params").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.True(parameters["lr"].GetProperty("differs").GetBoolean());
        Assert.False(parameters["batch"].GetProperty("differs").GetBoolean());
        var metrics = json.GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal([1], metrics["auc"].GetProperty("best").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal(JsonValueKind.Null, metrics["auc"].GetProperty("values")[2].ValueKind);
        Assert.Equal("NaN", metrics["val_loss"].GetProperty("values")[2].GetString());
        Assert.True(metrics["val_loss"].GetProperty("lowerIsBetter").GetBoolean());

        // The viewer says which way a metric improves; --metric narrows the metrics.
        var flipped = (await user.RunAsync("run", "compare", a, b, "--lower", "auc", "--metric", "auc", "--json")).Succeeded().Json;
        var auc = Assert.Single(flipped.GetProperty("metrics").EnumerateArray());
        Assert.Equal([0], auc.GetProperty("best").EnumerateArray().Select(i => i.GetInt32()));

        // Bad input: usage errors (2) before anything is sent, a run that does not exist is the server's (1).
        (await user.RunAsync("run", "compare", a)).Failed(2, "run compare");
        (await user.RunAsync("run", "compare", Id(a), Id(b))).Failed(2, "name the first run as namespace/model/id");
        (await user.RunAsync("run", "compare", a, Id(a))).Failed(2, "is given twice");
        (await user.RunAsync("run", "compare", a, b, "--lower", "auc", "--higher", "auc")).Failed(2, "both --lower and --higher");
        (await user.RunAsync("run", "compare", a, "aaaaaaaaaaaa")).Failed(1, "(run_not_found)");
    }

    [Fact]
    public async Task ExecRunsACommandAsARunEndedByItsExitStatusWithItsOutputAttached()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var model = "runs/x" + Guid.NewGuid().ToString("N")[..10];

        // The command sees its run, the server and a token; a client inside (berth itself here) logs into that run.
        var script = "echo \"run=$BERTH_RUN_ID\"; echo \"url=$BERTH_URL\"; [ -n \"$BERTH_TOKEN\" ] && echo token-given; " +
                     "\"$0\" \"$1\" run log \"$BERTH_RUN_ID\" loss=0.25 --step 7 >/dev/null; echo 'something went wrong' >&2; exit 3";
        var failed = await user.RunAsync("run", "exec", model, "--name", "exec-1", "--param", "lr=0.1", "--tag", "via=exec", "--",
            "sh", "-c", script, BerthExecutable.DotnetHost, BerthExecutable.DllPath);
        Assert.Equal(3, failed.ExitCode);
        var reference = failed.Stdout.Split('\n')[0]["run=".Length..].Trim();
        Assert.Matches($"^{model}/[a-z2-7]{{12}}$", reference);
        Assert.Contains($"url={Server.Url}", failed.Stdout, StringComparison.Ordinal);
        Assert.Contains("token-given", failed.Stdout, StringComparison.Ordinal);
        Assert.Contains("something went wrong", failed.Stderr, StringComparison.Ordinal);
        Assert.Contains($"berth: run {reference} started: {Server.Url.TrimEnd('/')}/{model}/runs/{Id(reference)}", failed.Stderr, StringComparison.Ordinal);
        Assert.Contains($"berth: run {reference} failed: the command exited with 3", failed.Stderr, StringComparison.Ordinal);

        var shown = (await user.RunAsync("run", "show", reference, "--json")).Succeeded().Json;
        Assert.Equal("failed", shown.GetProperty("status").GetString());
        Assert.Equal("exec-1", shown.GetProperty("name").GetString());
        Assert.Equal("0.1", shown.GetProperty("params").GetProperty("lr").GetString());
        Assert.Equal("exec", shown.GetProperty("tags").GetProperty("via").GetString());
        Assert.Equal(7, shown.GetProperty("metrics").GetProperty("loss").GetProperty("lastStep").GetInt64());
        Assert.Equal("sh", shown.GetProperty("environment").GetProperty("command").GetString());
        Assert.Equal(Environment.MachineName, shown.GetProperty("environment").GetProperty("host").GetString());

        // Its output, stdout and stderr, is the run file output.log.
        var files = (await user.RunAsync("run", "files", reference, "--json")).Succeeded().Json;
        Assert.Equal("output.log", Assert.Single(files.EnumerateArray()).GetProperty("path").GetString());
        var output = await DownloadAsync(user, reference, "output.log");
        Assert.Contains($"run={reference}", output, StringComparison.Ordinal);
        Assert.Contains("something went wrong", output, StringComparison.Ordinal);

        // 0 → finished; --json prints the run as it ended after the command's output.
        var done = await user.RunAsync("run", "exec", model, "--json", "--log-file", "logs/exec.log", "--", "sh", "-c", "echo all good");
        Assert.Equal(0, done.ExitCode);
        var ended = JsonDocument.Parse(done.Stdout[done.Stdout.IndexOf('{', StringComparison.Ordinal)..]).RootElement;
        Assert.Equal("finished", ended.GetProperty("status").GetString());
        Assert.StartsWith("all good\n", done.Stdout, StringComparison.Ordinal);
        Assert.Contains("all good", await DownloadAsync(user, $"{model}/{ended.GetProperty("id").GetString()}", "logs/exec.log"), StringComparison.Ordinal);

        // A signal → killed, and berth exits as a shell would (128 + 15).
        var killed = await user.RunAsync("run", "exec", model, "--no-log", "--", "sh", "-c", "kill -TERM $$");
        Assert.Equal(143, killed.ExitCode);
        var killedRun = System.Text.RegularExpressions.Regex.Match(killed.Stderr, "run (\\S+) killed: the command was killed by signal 15").Groups[1].Value;
        Assert.Equal("killed", (await user.RunAsync("run", "show", killedRun, "--json")).Succeeded().Json.GetProperty("status").GetString());
        Assert.Equal(0, (await user.RunAsync("run", "files", killedRun, "--json")).Succeeded().Json.GetArrayLength());

        // A command that does not exist: the run failed, exit 127, the reason kept in its output.
        var missing = await user.RunAsync("run", "exec", model, "--", "no-such-command-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal(127, missing.ExitCode);
        Assert.Contains("could not run 'no-such-command-", missing.Stderr, StringComparison.Ordinal);
        var missingRun = System.Text.RegularExpressions.Regex.Match(missing.Stderr, "run (\\S+) failed").Groups[1].Value;
        Assert.Contains("could not run", await DownloadAsync(user, missingRun, "output.log"), StringComparison.Ordinal);

        // Bad input is refused before a run is started.
        var before = (await user.RunAsync("runs", model, "--json")).Succeeded().Json.GetArrayLength();
        (await user.RunAsync("run", "exec", model)).Failed(2, "command");
        (await user.RunAsync("run", "exec", model + ":3", "--", "true")).Failed(2, "takes a model");
        (await user.RunAsync("run", "exec", model, "--log-file", "../out.log", "--", "true")).Failed(2, "--log-file");
        (await user.RunAsync("run", "exec", model, "--heartbeat-interval", "0", "--", "true")).Failed(2, "--heartbeat-interval");
        (await user.RunAsync("run", "exec", model, "--param", "novalue", "--", "true")).Failed(2, "--param");
        Assert.Equal(before, (await user.RunAsync("runs", model, "--json")).Succeeded().Json.GetArrayLength());
    }

    [Fact]
    public async Task ExecSendsHeartbeatsWhileTheCommandRunsSoTheRunIsNotMarkedCrashed()
    {
        // Runs crash after 6 silent seconds here; the command is silent for twice that.
        await using var server = await ServerProcess.StartAsync(fsync: false, Ct, new Dictionary<string, string>
        {
            ["BERTH_Runs__HeartbeatTimeout"] = "00:00:06",
            ["BERTH_Runs__WatchInterval"] = "00:00:01",
        });
        using var user = new CliUser();
        await user.LoginAsync(server);

        // Heartbeats every second: the run lives through 12 silent seconds of its command.
        var alive = await user.RunAsync("run", "exec", "acme/beats", "--heartbeat-interval", "1", "--", "sleep", "12");
        Assert.Equal(0, alive.ExitCode);
        Assert.Contains("finished: the command exited with 0", alive.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", alive.Stderr, StringComparison.Ordinal);

        // Without heartbeats (one a minute) the server marks it crashed meanwhile; berth says so and keeps the command's code.
        var silent = await user.RunAsync("run", "exec", "acme/beats", "--heartbeat-interval", "60", "--", "sleep", "12");
        Assert.Equal(0, silent.ExitCode);
        Assert.Contains("had already ended as crashed", silent.Stderr, StringComparison.Ordinal);
        Assert.Contains("crashed: the command exited with 0", silent.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecPassesATerminationSignalToTheCommandAndEndsTheRunAfterIt()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var model = "runs/s" + Guid.NewGuid().ToString("N")[..10];
        await using var running = user.Start("run", "exec", model, "--", "sh", "-c",
            "trap 'echo cleaning up; exit 7' TERM; echo ready; while true; do sleep 0.1; done");
        Assert.Equal("ready", await running.ReadLineAsync());
        await running.SignalAsync("TERM");
        Assert.Equal("cleaning up", await running.ReadLineAsync());
        var (code, _, stderr) = await running.WaitForExitAsync();
        Assert.Equal(7, code);
        var reference = System.Text.RegularExpressions.Regex.Match(string.Join('\n', stderr), "run (\\S+) failed: the command exited with 7").Groups[1].Value;
        Assert.NotEmpty(reference);
        Assert.Contains("cleaning up", await DownloadAsync(user, reference, "output.log"), StringComparison.Ordinal);
    }

    private async Task<string> DownloadAsync(CliUser user, string reference, string path)
    {
        _ = user;
        var parts = reference.Split('/');
        using var http = new HttpClient { BaseAddress = new Uri(Server.Url) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Server.AdminToken);
        return await http.GetStringAsync($"/api/v1/models/{parts[0]}/{parts[1]}/runs/{parts[2]}/files/{path}", Ct);
    }
}
