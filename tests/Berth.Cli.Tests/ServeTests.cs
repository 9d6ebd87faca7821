using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth serve</c> with a database setting it cannot use stops at once: exit code 1 and one error line
/// that names the setting and the cause, before it listens.
/// </summary>
public sealed class ServeTests
{
    [Theory]
    [InlineData("Host=127.0.0.1;Databse=berth", "unknown keyword 'databse'")]
    [InlineData("Host=127.0.0.1;Port=many", "bad value for 'port'")]
    [InlineData("Database=berth;Username=berth", "it names no server (Host=…)")]
    [InlineData("postgres", "Format of the initialization string does not conform")]
    public async Task AMalformedDbSettingStopsStartUpAndNamesIt(string db, string cause)
    {
        using var user = new CliUser();
        var result = await user.RunAsync(Serve(user, "--db", db));

        result.Failed(1, "--db (BERTH_DB) is not a valid PostgreSQL connection string: " + cause);
        Assert.False(File.Exists(Path.Combine(user.Root, "data", "admin-token")));
    }

    [Fact]
    public async Task AMalformedBerthDbVariableStopsStartUpToo()
    {
        using var user = new CliUser();
        var result = await user.RunWithAsync(new Dictionary<string, string?> { ["BERTH_DB"] = "Host=127.0.0.1;Pooling=often" }, Serve(user));

        result.Failed(1, "--db (BERTH_DB) is not a valid PostgreSQL connection string: bad value for 'pooling'");
    }

    [Fact]
    public async Task AnUnreachableDatabaseServerStopsStartUpAndSaysWhere()
    {
        using var user = new CliUser();
        var port = ServerProcess.FreePort();
        var result = await user.RunAsync(Serve(user, "--db", $"Host=127.0.0.1;Port={port};Database=berth;Username=berth;Password=secret-pw"));

        result.Failed(1, $"--db (BERTH_DB): cannot use PostgreSQL at 127.0.0.1:{port}, database 'berth': Failed to connect to 127.0.0.1:{port}");
        Assert.Contains("Connection refused", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(user.Root, "data", "admin-token")));
    }

    private static string[] Serve(CliUser user, params string[] more) =>
        ["serve", "--data", Path.Combine(user.Root, "data"), "--urls", $"http://127.0.0.1:{ServerProcess.FreePort()}", .. more];
}
