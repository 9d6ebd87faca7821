using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>Where the CLI keeps server, token and caches, who may read them, and how the environment overrides them.</summary>
public sealed class ConfigTests(ServerFixture fixture)
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly string WrongToken = "berth_" + new string('b', 48);

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task LoginSavesServerTokenAndNamespaceReadableByTheOwnerOnly()
    {
        using var user = new CliUser();
        var login = (await user.RunAsync("login", Server.Url, "--token", Server.AdminToken, "--namespace", "cfg", "--json")).Succeeded().Json;
        Assert.Equal("admin", login.GetProperty("user").GetProperty("name").GetString());

        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(user.ConfigPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(user.ConfigPath)!));
        var config = ReadConfig(user.ConfigPath);
        Assert.Equal(Server.Url, config.GetProperty("server").GetString());
        Assert.Equal(Server.AdminToken, config.GetProperty("token").GetString());
        Assert.Equal("cfg", config.GetProperty("namespace").GetString());
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(user.ConfigPath)!, "*.tmp"));
    }

    [Fact]
    public async Task LoginRewritesAConfigThatOthersCouldReadAsOwnerOnly()
    {
        using var user = new CliUser();
        Directory.CreateDirectory(Path.GetDirectoryName(user.ConfigPath)!);
        await File.WriteAllTextAsync(user.ConfigPath, "{}", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(user.ConfigPath, OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await user.LoginAsync(Server);

        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(user.ConfigPath));
    }

    [Fact]
    public async Task AConfigThatOthersCanReadIsFixedWithAWarning()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        File.SetUnixFileMode(user.ConfigPath, OwnerReadWrite | UnixFileMode.OtherRead);

        var result = await user.RunAsync("whoami");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("warning: ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(user.ConfigPath));
    }

    [Fact]
    public async Task LoginWithAWrongTokenFailsAndSavesNothing()
    {
        using var user = new CliUser();
        (await user.RunAsync("login", Server.Url, "--token", WrongToken)).Failed(1, "(token_invalid)");
        Assert.False(File.Exists(user.ConfigPath));
    }

    [Fact]
    public async Task LoginReadsTheTokenFromStdin()
    {
        using var user = new CliUser();
        (await user.RunWithInputAsync(Server.AdminToken + "\n", "login", Server.Url, "--token-stdin")).Succeeded();
        Assert.Equal(Server.AdminToken, ReadConfig(user.ConfigPath).GetProperty("token").GetString());
    }

    [Fact]
    public async Task LoginNeedsAValidServerAddressAndNamespace()
    {
        using var user = new CliUser();
        (await user.RunAsync("login", "ftp://example.com", "--token", Server.AdminToken)).Failed(2, "is not a server address");
        (await user.RunAsync("login", Server.Url, "--token", Server.AdminToken, "--namespace", "Bad Name")).Failed(2, "Invalid namespace");
        (await user.RunAsync("login", Server.Url)).Failed(2, "needs a token");
        Assert.False(File.Exists(user.ConfigPath));
    }

    [Fact]
    public async Task EnvironmentVariablesOverrideTheConfigFile()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);

        // A wrong BERTH_TOKEN wins over the good saved one.
        (await user.RunWithAsync(new Dictionary<string, string?> { ["BERTH_TOKEN"] = WrongToken }, "whoami")).Failed(1, "(token_invalid)");

        // A good BERTH_URL and BERTH_TOKEN win over a saved server that is down and a wrong saved token.
        await File.WriteAllTextAsync(
            user.ConfigPath,
            $$"""{"server":"http://127.0.0.1:{{ServerProcess.FreePort()}}","token":"{{WrongToken}}"}""",
            TestContext.Current.CancellationToken);
        (await user.RunAsync("whoami")).Failed(1, "Cannot reach the Berth server");
        var me = (await user.RunWithAsync(new Dictionary<string, string?> { ["BERTH_URL"] = Server.Url, ["BERTH_TOKEN"] = Server.AdminToken }, "whoami", "--json")).Succeeded().Json;
        Assert.Equal("admin", me.GetProperty("user").GetProperty("name").GetString());
    }

    [Fact]
    public async Task ASavedLoginIsUsedForTheSameServerSpelledDifferently()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var port = new Uri(Server.Url).Port;

        foreach (var spelling in new[] { $"http://localhost:{port}", $"http://LocalHost:{port}/", $"HTTP://127.0.0.1:{port}/" })
        {
            var me = (await user.RunWithAsync(new Dictionary<string, string?> { ["BERTH_URL"] = spelling }, "whoami", "--json")).Succeeded().Json;
            Assert.Equal("admin", me.GetProperty("user").GetProperty("name").GetString());
        }
    }

    [Fact]
    public async Task TheSavedTokenIsNotSentToAnotherServerAndTheErrorSaysWhy()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);

        // Another address (a proxy in front of the same server, as far as the CLI can tell another server).
        await using var proxy = new LoadBalancer(new Uri(Server.Url), bytesPerSecond: 0);
        var elsewhere = (await user.RunWithAsync(new Dictionary<string, string?> { ["BERTH_URL"] = proxy.Url }, "whoami")).Failed(1, "(token_missing)");
        Assert.Contains($"No token was sent to {proxy.Url}: the saved login is for {Server.Url}, a different server (BERTH_URL={proxy.Url}).", elsewhere.Stderr, StringComparison.Ordinal);
        Assert.Contains($"hint: log in to it with 'berth login {proxy.Url} --user <name>' (or --token <token>), or set BERTH_TOKEN.", elsewhere.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("token create", elsewhere.Stderr, StringComparison.Ordinal);

        // Logged out of the same server.
        (await user.RunAsync("logout")).Succeeded();
        var loggedOut = (await user.RunAsync("whoami")).Failed(1, "(token_missing)");
        Assert.Contains($"No token was sent to {Server.Url}: you are logged out of it", loggedOut.Stderr, StringComparison.Ordinal);

        // Never logged in.
        using var stranger = new CliUser();
        var never = (await stranger.RunWithAsync(new Dictionary<string, string?> { ["BERTH_URL"] = Server.Url }, "whoami")).Failed(1, "(token_missing)");
        Assert.Contains("there is no saved login (run 'berth login') and BERTH_TOKEN is not set", never.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDefaultNamespaceCompletesReferencesThatLeaveItOut()
    {
        using var user = new CliUser();
        using var model = new ModelFolder(("weights.bin", 64));
        await user.LoginAsync(Server, defaultNamespace: "cfg-default");

        var pushed = (await user.RunAsync("push", model.Root, "scorer", "--json")).Succeeded().Json;
        Assert.Equal("cfg-default", pushed.GetProperty("version").GetProperty("namespace").GetString());
        Assert.Equal("scorer", (await user.RunAsync("show", "scorer:1", "--json")).Succeeded().Json.GetProperty("model").GetString());

        // BERTH_NAMESPACE overrides the saved default.
        (await user.RunWithAsync(new Dictionary<string, string?> { ["BERTH_NAMESPACE"] = "cfg-elsewhere" }, "show", "scorer:1")).Failed(1, "(namespace_not_found)");
    }

    [Fact]
    public async Task LogoutRemovesTheTokenAndKeepsTheRest()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server, defaultNamespace: "cfg");

        var logout = (await user.RunAsync("logout", "--json")).Succeeded().Json;
        Assert.True(logout.GetProperty("loggedOut").GetBoolean());
        Assert.False(logout.GetProperty("revoked").GetBoolean());

        var config = ReadConfig(user.ConfigPath);
        Assert.Equal(JsonValueKind.Null, config.GetProperty("token").ValueKind);
        Assert.Equal(Server.Url, config.GetProperty("server").GetString());
        Assert.DoesNotContain(Server.AdminToken, await File.ReadAllTextAsync(user.ConfigPath, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        (await user.RunAsync("whoami")).Failed(1, "(token_missing)");
        Assert.Contains("Not logged in", (await user.RunAsync("logout")).Succeeded().Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogoutWithRevokeMakesTheTokenUselessEverywhere()
    {
        using var admin = new CliUser();
        await admin.LoginAsync(Server);
        var secret = (await admin.RunAsync("token", "create", "--name", "cfg-revoke", "--json")).Succeeded().Json.GetProperty("token").GetString()!;

        using var user = new CliUser();
        (await user.RunAsync("login", Server.Url, "--token", secret)).Succeeded();
        var logout = (await user.RunAsync("logout", "--revoke", "--json")).Succeeded().Json;
        Assert.True(logout.GetProperty("revoked").GetBoolean());

        (await user.RunWithAsync(new Dictionary<string, string?> { ["BERTH_URL"] = Server.Url, ["BERTH_TOKEN"] = secret }, "whoami")).Failed(1, "(token_revoked)");
    }

    [Fact]
    public async Task TheConfigFollowsXdgConfigHomeThenHome()
    {
        using var user = new CliUser();
        user.Environment["BERTH_CONFIG"] = null;
        var xdg = Path.Combine(user.Root, "xdg-config");
        user.Environment["XDG_CONFIG_HOME"] = xdg;
        await user.LoginAsync(Server);
        Assert.True(File.Exists(Path.Combine(xdg, "berth", "config.json")));
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(Path.Combine(xdg, "berth", "config.json")));

        user.Environment["XDG_CONFIG_HOME"] = null;
        await user.LoginAsync(Server);
        Assert.True(File.Exists(Path.Combine(user.Home, ".config", "berth", "config.json")));
    }

    [Fact]
    public async Task PushKeepsItsCachesInBerthCacheDirOrXdgCacheHome()
    {
        using var user = new CliUser();
        using var model = new ModelFolder(("weights.bin", 100));
        user.Environment["BERTH_URL"] = Server.Url;
        user.Environment["BERTH_TOKEN"] = Server.AdminToken;

        (await user.RunAsync("push", model.Root, "cfg/cached")).Succeeded();
        var digests = await File.ReadAllTextAsync(Path.Combine(user.CacheDirectory, "digests.json"), TestContext.Current.CancellationToken);
        Assert.Contains(Path.Combine(model.Root, "weights.bin"), digests, StringComparison.Ordinal);

        user.Environment["BERTH_CACHE_DIR"] = null;
        var xdg = Path.Combine(user.Root, "xdg-cache");
        user.Environment["XDG_CACHE_HOME"] = xdg;
        (await user.RunAsync("push", model.Root, "cfg/cached")).Succeeded();
        Assert.True(File.Exists(Path.Combine(xdg, "berth", "digests.json")));

        user.Environment["XDG_CACHE_HOME"] = null;
        (await user.RunAsync("push", model.Root, "cfg/cached")).Succeeded();
        Assert.True(File.Exists(Path.Combine(user.Home, ".cache", "berth", "digests.json")));
    }

    private static JsonElement ReadConfig(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }
}
