using System.Globalization;
using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth events</c>: a listing after a cursor (a table, or JSON lines), and <c>--follow</c>, the live stream, run
/// as a process whose output is read as it arrives while other commands make the changes.
/// </summary>
public sealed class EventTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task EventsAfterACursorAreATableOrJsonLines()
    {
        using var user = await CliUser.WithVersionAsync(Server, "ev-list/fraud");
        (await user.RunAsync("stage", "ev-list/fraud:1", "staging", "--comment", "looks good")).Succeeded();

        var lines = JsonLines((await user.RunAsync("events", "--namespace", "ev-list", "--json")).Succeeded().Stdout);
        Assert.Equal(["namespace.created", "model.created", "version.created", "version.ready", "stage.changed"], lines.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(lines.Select(e => e.GetProperty("id").GetInt64()).Order(), lines.Select(e => e.GetProperty("id").GetInt64()));
        var staged = lines[^1];
        Assert.Equal("ev-list/fraud", staged.GetProperty("model").GetString());
        Assert.Equal(1, staged.GetProperty("version").GetInt32());
        Assert.Equal("staging", staged.GetProperty("after").GetProperty("stage").GetString());
        Assert.Equal("looks good", staged.GetProperty("data").GetProperty("comment").GetString());

        // Filters: types, a cursor, a limit, a model.
        var ready = lines[3].GetProperty("id").GetInt64();
        Assert.Equal([staged.GetProperty("id").GetInt64()], Ids(await user.RunAsync("events", "--namespace", "ev-list", "--since", Id(ready), "--json")));
        Assert.Equal([ready], Ids(await user.RunAsync("events", "--namespace", "ev-list", "--type", "version.ready", "--json")));
        Assert.Equal(2, Ids(await user.RunAsync("events", "--namespace", "ev-list", "--type", "stage.changed,version.ready", "--json")).Count);
        Assert.Equal(2, Ids(await user.RunAsync("events", "--namespace", "ev-list", "--limit", "2", "--json")).Count);
        Assert.Equal(4, Ids(await user.RunAsync("events", "--model", "ev-list/fraud", "--json")).Count);

        // The table: one row per event, what changed in short, and the cursor to continue from.
        var table = (await user.RunAsync("events", "--namespace", "ev-list", "--since", Id(ready - 1))).Succeeded().Stdout;
        Assert.Matches($@"(?m)^ID\s+TIME\s+TYPE\s+SUBJECT\s+ACTOR\s+CHANGE$", table);
        Assert.Matches($@"(?m)^#{ready}\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+version\.ready\s+ev-list/fraud:1\s+admin\s+digest=sha256:", table);
        Assert.Matches($@"(?m)^#{staged.GetProperty("id").GetInt64()}\s+\S+ \S+ UTC\s+stage\.changed\s+ev-list/fraud:1\s+admin\s+\(none\) -> staging$", table);
        // The cursor to continue from is at least the last event shown (other namespaces' events may have committed since).
        var next = long.Parse(Assert.Single(System.Text.RegularExpressions.Regex.Matches(table, @"Newer events: --since (\d+)\n\z")).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(next >= staged.GetProperty("id").GetInt64(), $"--since {next} is before the last event shown");
        Assert.Equal($"No events after #{staged.GetProperty("id").GetInt64()}.{Environment.NewLine}",
            (await user.RunAsync("events", "--namespace", "ev-list", "--since", Id(staged.GetProperty("id").GetInt64()))).Succeeded().Stdout);
        Assert.Equal("", (await user.RunAsync("events", "--namespace", "ev-list", "--since", Id(staged.GetProperty("id").GetInt64()), "--json")).Succeeded().Stdout);

        (await user.RunAsync("events", "--namespace", "ev-nowhere")).Failed(1, "(namespace_not_found)");
        (await user.RunAsync("events", "--model", "ev-list/nope")).Failed(1, "(model_not_found)");
    }

    [Theory]
    [InlineData("--type", "stage.changed,stage.exploded", "--type: 'stage.exploded' is not an event type")]
    [InlineData("--limit", "0", "--limit must be between 1 and 1000.")]
    [InlineData("--limit", "1001", "--limit must be between 1 and 1000.")]
    [InlineData("--since", "-1", "--since must be an event id")]
    [InlineData("--model", "ev-list/fraud:1", "takes a model (namespace/model), not a version")]
    [InlineData("--follow", "--limit", "--limit sets the size of a listing")]
    public async Task ABadFilterIsAUsageError(string option, string value, string message)
    {
        using var user = CliUser.WithDeadServer(Server.AdminToken);
        string[] args = option == "--follow" ? ["events", "--follow", "--limit", "3"] : ["events", "--namespace", "ev-list", option, value];
        (await user.RunAsync(args)).Failed(2, message);
    }

    [Fact]
    public async Task FollowWithJsonPrintsEachLiveEventAsItHappensAndCtrlCEndsItCleanly()
    {
        using var user = await CliUser.WithVersionAsync(Server, "ev-follow/fraud");
        await using var follow = user.Start("events", "--follow", "--namespace", "ev-follow", "--json");

        // Notices go to stderr; once it says where it starts, every later change is streamed.
        var notice = await follow.ReadErrorLineAsync();
        Assert.Matches(@"^Following events in ev-follow after #\d+; Ctrl\+C stops\.$", notice);
        var start = long.Parse(notice.Split('#')[1].Split(';')[0], CultureInfo.InvariantCulture);

        (await user.RunAsync("stage", "ev-follow/fraud:1", "production")).Succeeded();
        var first = JsonDocument.Parse(await follow.ReadLineAsync()).RootElement;
        Assert.Equal("stage.changed", first.GetProperty("type").GetString());
        Assert.True(first.GetProperty("id").GetInt64() > start);

        // Each event arrives while the command runs, before the next change is made.
        (await user.RunAsync("alias", "set", "ev-follow/fraud:1", "champion")).Succeeded();
        var second = JsonDocument.Parse(await follow.ReadLineAsync()).RootElement;
        Assert.Equal("alias.moved", second.GetProperty("type").GetString());
        Assert.Equal("champion", second.GetProperty("data").GetProperty("alias").GetString());
        (await user.RunAsync("deploy", "record", "ev-follow/fraud:1", "--env", "prod-eu", "--status", "live")).Succeeded();
        var third = JsonDocument.Parse(await follow.ReadLineAsync()).RootElement;
        Assert.Equal("deployment.recorded", third.GetProperty("type").GetString());
        Assert.Equal("live", third.GetProperty("after").GetProperty("status").GetString());
        Assert.True(first.GetProperty("id").GetInt64() < second.GetProperty("id").GetInt64() && second.GetProperty("id").GetInt64() < third.GetProperty("id").GetInt64());

        // Another namespace's changes are left out: the next line is the next change in ev-follow.
        using (var elsewhere = await CliUser.WithVersionAsync(Server, "ev-elsewhere/fraud"))
        {
            (await elsewhere.RunAsync("stage", "ev-elsewhere/fraud:1", "staging")).Succeeded();
        }

        (await user.RunAsync("stage", "ev-follow/fraud:1", "archived")).Succeeded();
        var fourth = JsonDocument.Parse(await follow.ReadLineAsync()).RootElement;
        Assert.Equal("ev-follow/fraud", fourth.GetProperty("model").GetString());
        Assert.Equal("archived", fourth.GetProperty("after").GetProperty("stage").GetString());

        // Ctrl+C ends the stream with exit code 0 and nothing more on either stream.
        await follow.InterruptAsync();
        var (exitCode, stdout, stderr) = await follow.WaitForExitAsync();
        Assert.Equal(0, exitCode);
        Assert.Empty(stdout);
        Assert.Empty(stderr);
    }

    [Fact]
    public async Task FollowWithoutJsonPrintsOneReadableLinePerEvent()
    {
        using var user = await CliUser.WithVersionAsync(Server, "ev-text/fraud");
        await using var follow = user.Start("events", "--follow", "--model", "ev-text/fraud", "--type", "stage.changed");
        Assert.Matches(@"^Following events of ev-text/fraud \(stage\.changed\) after #\d+; Ctrl\+C stops\.$", await follow.ReadErrorLineAsync());

        (await user.RunAsync("alias", "set", "ev-text/fraud:1", "champion")).Succeeded();
        (await user.RunAsync("stage", "ev-text/fraud:1", "staging")).Succeeded();
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC  #\d+  stage\.changed  ev-text/fraud:1  admin  \(none\) -> staging$", await follow.ReadLineAsync());
        (await user.RunAsync("stage", "ev-text/fraud:1", "production")).Succeeded();
        Assert.EndsWith("  stage.changed  ev-text/fraud:1  admin  staging -> production", await follow.ReadLineAsync(), StringComparison.Ordinal);

        await follow.InterruptAsync();
        Assert.Equal(0, (await follow.WaitForExitAsync()).ExitCode);
    }

    [Fact]
    public async Task FollowIntoHeadEndsWhenHeadHasReadEnough()
    {
        using var user = await CliUser.WithVersionAsync(Server, "ev-head/fraud");
        await using var pipeline = user.StartPiped("head -n 2", "events", "--follow", "--namespace", "ev-head", "--json");
        Assert.StartsWith("Following events in ev-head after #", await pipeline.ReadErrorLineAsync(), StringComparison.Ordinal);

        // head exits after two lines; berth notices at its next write and ends too, so the pipeline ends.
        string[] stages = ["staging", "production", "archived"];
        for (var i = 0; !pipeline.HasExited; i++)
        {
            Assert.True(i < 30, "the pipeline did not end after head exited");
            (await user.RunAsync("stage", "ev-head/fraud:1", stages[i % stages.Length])).Succeeded();
        }

        var (exitCode, stdout, stderr) = await pipeline.WaitForExitAsync();
        Assert.Equal(0, exitCode);
        Assert.Equal(["stage.changed", "stage.changed"], stdout.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("type").GetString()));
        Assert.Equal(["berth exited 0"], stderr);
    }

    private static List<JsonElement> JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static List<long> Ids(CliResult result) => JsonLines(result.Succeeded().Stdout).Select(e => e.GetProperty("id").GetInt64()).ToList();

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
