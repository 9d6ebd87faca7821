using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>berth run start|log|finish|show and berth runs, as a user types them.</summary>
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
}
