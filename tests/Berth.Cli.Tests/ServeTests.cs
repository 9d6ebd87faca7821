using System.Net;
using System.Net.Sockets;
using Berth.Cli.Tests.Support;
using Berth.Testing.S3;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth serve</c> with an address, database or blob-store setting it cannot use stops at once: exit code 1 and one
/// error line that names the setting and the cause, before it listens. The first start tells where the
/// administrator's token is and how to log in, without printing the token.
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

    [Theory]
    [InlineData("00:00:00", "invalid setting in 'Runs' (BERTH_Runs__…, --Runs:…): DataAnnotation validation failed for 'RunOptions' members: 'WatchInterval' with the error: 'The field WatchInterval must be between 00:00:01 and 1.00:00:00.'.")]
    [InlineData("soon", "invalid setting Runs:WatchInterval (BERTH_Runs__WatchInterval): 'soon' is not a duration, hh:mm:ss or d.hh:mm:ss.")]
    public async Task AnInvalidSettingStopsStartUpWithOneLineNamingItBeforeMigrating(string value, string message)
    {
        using var user = new CliUser();
        var result = await user.RunWithAsync(new Dictionary<string, string?> { ["BERTH_Runs__WatchInterval"] = value }, Serve(user));

        result.Failed(1, message);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(Path.Combine(user.Root, "data", "berth.db")));
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

    [Theory]
    [InlineData("s3://Models_Bucket/berth", "is not a usable S3 location: 'Models_Bucket' is not a valid bucket name")]
    [InlineData("s3://models/berth?endpoint=ftp://s3.internal", "is not a usable S3 location: endpoint must be an http:// or https:// address")]
    [InlineData("s3://models/berth?pathstyle=true", "is not a usable S3 location: unknown parameter 'pathstyle'")]
    [InlineData("s3://models/berth?path-style=yes", "is not a usable S3 location: path-style must be true or false, not 'yes'")]
    [InlineData("s3://models/berth?access-key=AKIAEXAMPLE", "is not a usable S3 location: access-key and secret-key go together")]
    [InlineData("s3://models/berth?download=cdn", "is not a usable S3 location: download must be proxy or redirect, not 'cdn'")]
    [InlineData("s3://models/berth?part-size-mb=1", "is not a usable S3 location: part-size-mb must be a whole number from 5 to 512, not '1'")]
    [InlineData("relative/folder", "must be s3://<bucket>[/<prefix>][?…] or an absolute folder path, not 'relative/folder'")]
    public async Task AMalformedBlobsSettingStopsStartUpAndNamesIt(string blobs, string cause)
    {
        using var user = new CliUser();
        var result = await user.RunAsync(Serve(user, "--blobs", blobs));

        result.Failed(1, "--blobs (BERTH_BLOBS) " + cause);
        Assert.False(File.Exists(Path.Combine(user.Root, "data", "admin-token")));
    }

    [Fact]
    public async Task AnObjectStoreThatRefusesTheCredentialsStopsStartUpAndSaysWhy()
    {
        using var user = new CliUser();
        var result = await user.RunAsync(Serve(user, "--blobs", TestS3.Setting(TestS3.NewPrefix("cli"), secretKey: "not-the-secret-42")));

        result.Failed(1, $"--blobs (BERTH_BLOBS): The blob store (S3 bucket '{TestS3.Bucket}' prefix 'cli-");
        Assert.Contains("SignatureDoesNotMatch (HTTP 403)", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-secret-42", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(user.Root, "data", "admin-token")));
    }

    [Fact]
    public async Task AnUnreachableObjectStoreStopsStartUpAndSaysWhere()
    {
        using var user = new CliUser();
        var port = ServerProcess.FreePort();
        var result = await user.RunAsync(Serve(user, "--blobs", $"s3://models/berth?endpoint=http://127.0.0.1:{port}&path-style=true&access-key=a&secret-key=secret-pw"));

        result.Failed(1, $"--blobs (BERTH_BLOBS): The blob store (S3 bucket 'models' prefix 'berth/' at http://127.0.0.1:{port}) failed to list the bucket:");
        Assert.Contains("Connection refused", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hunter2")]
    [InlineData("berth_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOP")]
    [InlineData("berth_abcdefghijklmnopqrstuvwxyz234567abcdefghijklmno")]
    public async Task AMalformedAdminTokenFileStopsStartUpAndNamesIt(string token)
    {
        using var user = new CliUser();
        var file = Path.Combine(user.Root, "admin-secret");
        await File.WriteAllTextAsync(file, token, TestContext.Current.CancellationToken);
        var result = await user.RunAsync(Serve(user, "--admin-token-file", file));

        result.Failed(1, "--admin-token-file: the administrator's token must be 'berth_' followed by 48 characters of a-z and 2-7");
        Assert.DoesNotContain(token, result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(user.Root, "data", "admin-token")));
    }

    [Fact]
    public async Task AnUnreadableAdminTokenFileStopsStartUpAndSaysWhich()
    {
        using var user = new CliUser();
        var file = Path.Combine(user.Root, "no-such-secret");
        var result = await user.RunAsync(Serve(user, "--admin-token-file", file));

        result.Failed(1, $"--admin-token-file: cannot read '{file}'");
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task APortInUseStopsStartUpWithOneLineNamingUrlsBeforeCreatingAnything(string host)
    {
        using var user = new CliUser();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var data = Path.Combine(user.Root, "data");

        var result = await user.RunAsync("serve", "--data", data, "--urls", $"http://{host}:{port}");

        result.Failed(1, $"--urls (BERTH_URLS): cannot listen on http://{host}:{port}: address already in use");
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task APortInUseGivenByTheEnvironmentIsNamedToo()
    {
        using var user = new CliUser();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var data = Path.Combine(user.Root, "data");

        var result = await user.RunWithAsync(new Dictionary<string, string?> { ["BERTH_URLS"] = $"http://127.0.0.1:{port}" }, "serve", "--data", data);

        result.Failed(1, $"--urls (BERTH_URLS): cannot listen on http://127.0.0.1:{port}: address already in use");
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task TheFirstStartSaysWhereTheTokenAndTheWebPasswordAreAndHowToLogInAtTheRealAddressButNeverPrintsEither()
    {
        using var user = new CliUser();
        var data = Path.Combine(user.Root, "data");
        var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        await using var server = user.Start("serve", "--data", data, "--urls", url, "--no-fsync");

        var lines = new List<string>();
        string? login = null;
        while (login is null || !lines[^1].Contains("Web UI:", StringComparison.Ordinal))
        {
            var line = await server.ReadLineAsync();
            lines.Add(line);
            login ??= line.Contains("berth login", StringComparison.Ordinal) ? line.Trim() : null;
        }

        var passwordFile = Path.Combine(data, "admin-password");
        Assert.Equal($"Web UI: open {url}/ and sign in as 'admin' with the one-time password in {passwordFile}", lines[^1].Trim());
        var password = (await File.ReadAllTextAsync(passwordFile, TestContext.Current.CancellationToken)).Trim();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passwordFile));

        var tokenFile = Path.Combine(data, "admin-token");
        Assert.Equal($"berth login {url} --token \"$(cat {tokenFile})\"", login);
        Assert.Contains(lines, l => l.Contains($"The administrator's API token is in {tokenFile}", StringComparison.Ordinal));
        var token = (await File.ReadAllTextAsync(tokenFile, TestContext.Current.CancellationToken)).Trim();
        Assert.StartsWith("berth_", token, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains(token[6..], StringComparison.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));

        // The address printed is the one to log in at.
        var shell = await user.RunAsync("login", url, "--token", token);
        shell.Succeeded();
        await server.InterruptAsync();
        var (exit, stdout, stderr) = await server.WaitForExitAsync();
        Assert.Equal(0, exit);
        Assert.DoesNotContain(stdout.Concat(stderr), l => l.Contains(token[6..], StringComparison.Ordinal));
        Assert.DoesNotContain(lines.Concat(stdout).Concat(stderr), l => l.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheServerReadsNoSettingsFromItsWorkingDirectoryAndWatchesNoneOfItsFolders()
    {
        // Started in a folder like a home directory: another program's appsettings.json, and a tree of folders.
        using var user = new CliUser();
        await File.WriteAllTextAsync(Path.Combine(user.Home, "appsettings.json"), """{ "Logging": { "Format": "json" } }""", TestContext.Current.CancellationToken);
        const int folders = 60;
        for (var i = 0; i < folders / 2; i++)
        {
            Directory.CreateDirectory(Path.Combine(user.Home, "projects", $"p{i}", "src"));
        }

        await using var server = user.Start(Serve(user, "--no-fsync"));
        var lines = new List<string>();
        while (lines.Count == 0 || !lines[^1].Contains("Web UI:", StringComparison.Ordinal))
        {
            lines.Add(await server.ReadLineAsync());
        }

        // Readable logs, not the JSON that appsettings.json asked for; and no watch on the working directory's folders.
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith('{'));
        Assert.Contains(lines, l => l.Contains("Now listening on", StringComparison.Ordinal));
        var watches = InotifyWatches(server.ProcessId);
        Assert.True(watches < folders, $"berth serve holds {watches} inotify watches, started in a folder with {folders + 1} folders below it.");
        await server.InterruptAsync();
        Assert.Equal(0, (await server.WaitForExitAsync()).ExitCode);
    }

    /// <summary>Inotify watches a process holds: the "inotify wd:" lines of its inotify descriptors (Linux's /proc).</summary>
    private static int InotifyWatches(int pid) =>
        Directory.EnumerateFiles($"/proc/{pid}/fd")
            .Where(fd => new FileInfo(fd).LinkTarget == "anon_inode:inotify")
            .Sum(fd => File.ReadLines($"/proc/{pid}/fdinfo/{Path.GetFileName(fd)}").Count(l => l.StartsWith("inotify", StringComparison.Ordinal)));

    private static string[] Serve(CliUser user, params string[] more) =>
        ["serve", "--data", Path.Combine(user.Root, "data"), "--urls", $"http://127.0.0.1:{ServerProcess.FreePort()}", .. more];
}
