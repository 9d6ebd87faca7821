using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth deploy record|ls</c>, and where versions run as <c>berth ls</c> and <c>berth show</c> tell it: a version
/// reported live in an environment replaces the one that ran there.
/// </summary>
public sealed class DeploymentTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task DeploymentsAreRecordedListedAndShownByLsAndShow()
    {
        using var user = new CliUser();
        using var model = new ModelFolder(("weights.bin", 100));
        await user.LoginAsync(Server);
        foreach (var version in new[] { "1.0.0", "1.1.0", "1.2.0" })
        {
            (await user.RunAsync("push", model.Root, "dep/fraud", "--version", version)).Succeeded();
        }

        // Version 1 is live in prod-eu, version 2 is being deployed to prod-us.
        var live = (await user.RunAsync("deploy", "record", "dep/fraud:1", "--env", "prod-eu", "--endpoint", "https://scoring.acme.io", "--status", "live", "--json")).Succeeded().Json;
        Assert.Equal(1, live.GetProperty("version").GetInt32());
        Assert.Equal("prod-eu", live.GetProperty("environment").GetString());
        Assert.Equal("https://scoring.acme.io", live.GetProperty("endpoint").GetString());
        Assert.Equal("live", live.GetProperty("status").GetString());
        Assert.Equal("admin", live.GetProperty("actor").GetString());
        Assert.Equal($"Recorded dep/fraud:2: deploying in prod-us.{Environment.NewLine}",
            (await user.RunAsync("deploy", "record", "dep/fraud:1.1.0", "--env", "prod-us", "--status", "deploying", "--comment", "pipeline 42")).Succeeded().Stdout);

        var versions = (await user.RunAsync("ls", "dep/fraud")).Succeeded().Stdout;
        Assert.Matches(@"(?m)^VERSION\s+SEMVER\s+STAGE\s+ALIASES\s+DEPLOYED\s+SIZE\s+CREATED\s+METRICS$", versions);
        Assert.Matches(@"(?m)^1\s+1\.0\.0\s+-\s+-\s+prod-eu \(live\)\s+100 B\s", versions);
        Assert.Matches(@"(?m)^2\s+1\.1\.0\s+-\s+-\s+prod-us \(deploying\)\s+100 B\s", versions);
        Assert.Matches(@"(?m)^3\s+1\.2\.0\s+-\s+-\s+-\s+100 B\s", versions);

        var shown = (await user.RunAsync("show", "dep/fraud:1")).Succeeded().Stdout;
        Assert.Matches(@"(?m)^deployments:\n  ENVIRONMENT\s+STATUS\s+ENDPOINT\s+SINCE\n  prod-eu\s+live\s+https://scoring\.acme\.io\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", shown);
        Assert.DoesNotContain("deployments:", (await user.RunAsync("show", "dep/fraud:3")).Succeeded().Stdout, StringComparison.Ordinal);
        var current = Assert.Single((await user.RunAsync("show", "dep/fraud:2", "--json")).Succeeded().Json.GetProperty("deployments").EnumerateArray());
        Assert.Equal("prod-us", current.GetProperty("environment").GetString());
        Assert.Equal("deploying", current.GetProperty("status").GetString());

        // Version 2 goes live in prod-eu (selected by its stage): version 1 is retired there.
        (await user.RunAsync("stage", "dep/fraud:2", "production")).Succeeded();
        (await user.RunAsync("deploy", "record", "dep/fraud:production", "--env", "prod-eu", "--status", "live")).Succeeded();
        versions = (await user.RunAsync("ls", "dep/fraud")).Succeeded().Stdout;
        Assert.Matches(@"(?m)^1\s+1\.0\.0\s+-\s+-\s+-\s+100 B\s", versions);
        Assert.Matches(@"(?m)^2\s+1\.1\.0\s+production\s+-\s+prod-eu \(live\), prod-us \(deploying\)\s+100 B\s", versions);
        Assert.Empty((await user.RunAsync("show", "dep/fraud:1", "--json")).Succeeded().Json.GetProperty("deployments").EnumerateArray());

        // The history, newest first, whole or by environment or version.
        var history = (await user.RunAsync("deploy", "ls", "dep/fraud", "--json")).Succeeded().Json.EnumerateArray()
            .Select(d => $"{d.GetProperty("version").GetInt32()} {d.GetProperty("environment").GetString()} {d.GetProperty("status").GetString()}").ToList();
        Assert.Equal(["2 prod-eu live", "1 prod-eu retired", "2 prod-us deploying", "1 prod-eu live"], history);
        Assert.Equal(["pipeline 42"], Comments(await user.RunAsync("deploy", "ls", "dep/fraud", "--env", "prod-us", "--json")));
        Assert.Equal(2, (await user.RunAsync("deploy", "list", "dep/fraud", "--version", "1", "--json")).Succeeded().Json.GetArrayLength());
        var table = (await user.RunAsync("deploy", "ls", "dep/fraud", "--env", "prod-us")).Succeeded().Stdout;
        Assert.Matches(@"(?m)^TIME\s+VERSION\s+ENVIRONMENT\s+STATUS\s+ENDPOINT\s+BY\s+COMMENT$", table);
        Assert.Matches(@"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+2\s+prod-us\s+deploying\s+-\s+admin\s+pipeline 42$", table);
        Assert.Equal($"No deployments of dep/fraud:3 in prod-eu recorded.{Environment.NewLine}",
            (await user.RunAsync("deploy", "ls", "dep/fraud", "--version", "3", "--env", "prod-eu")).Succeeded().Stdout);

        // The server's refusals.
        (await user.RunAsync("deploy", "record", "dep/fraud:1", "--env", "prod-eu", "--status", "live", "--endpoint", "not a url")).Failed(1, "(invalid_deployment)");
        (await user.RunAsync("deploy", "record", "dep/fraud:9", "--env", "prod-eu", "--status", "live")).Failed(1, "(version_not_found)");
        (await user.RunAsync("deploy", "ls", "dep/nope")).Failed(1, "(model_not_found)");
    }

    [Theory]
    [InlineData("record", "dep/fraud:1", "--env", "prod-eu", "--status", "running", "Argument 'running' not recognized")]
    [InlineData("record", "dep/fraud:1", "--env", "Prod EU", "--status", "live", "--env: Invalid environment 'Prod EU'")]
    [InlineData("record", "dep/fraud:1", "--status", "live", "Option '--env' is required")]
    [InlineData("record", "dep/fraud:1", "--env", "prod-eu", "Option '--status' is required")]
    [InlineData("record", "dep/fraud", "--env", "prod-eu", "--status", "live", "name the version that was deployed, e.g. dep/fraud:7")]
    [InlineData("ls", "dep/fraud:1", "takes a model (namespace/model), not a version")]
    [InlineData("ls", "dep/fraud", "--version", "01", "--version: Invalid version number '01'")]
    public async Task ABadDeployCommandIsAUsageError(params string[] argsAndMessage)
    {
        using var user = CliUser.WithDeadServer(Server.AdminToken);
        (await user.RunAsync(["deploy", .. argsAndMessage[..^1]])).Failed(2, argsAndMessage[^1]);
    }

    private static List<string?> Comments(CliResult result) =>
        result.Succeeded().Json.EnumerateArray().Select(d => d.GetProperty("comment").GetString()).ToList();
}
