using System.Diagnostics;

namespace Berth.Cli.Tests.Support;

/// <summary>
/// A person at a shell: their own HOME, config file (BERTH_CONFIG) and cache folder (BERTH_CACHE_DIR),
/// all in a temporary folder, and none of the Berth or XDG variables of the machine running the tests.
/// </summary>
public sealed class CliUser : IDisposable
{
    private static readonly string[] Cleared =
        ["BERTH_URL", "BERTH_TOKEN", "BERTH_NAMESPACE", "BERTH_CONFIG", "BERTH_CACHE_DIR", "BERTH_DEBUG", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "NO_COLOR"];

    public CliUser()
    {
        Root = TempFolder.Create("berth-cli-user");
        Home = Directory.CreateDirectory(Path.Combine(Root, "home")).FullName;
        ConfigPath = Path.Combine(Root, "config", "config.json");
        CacheDirectory = Path.Combine(Root, "cache");
        Environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["HOME"] = Home,
            ["BERTH_CONFIG"] = ConfigPath,
            ["BERTH_CACHE_DIR"] = CacheDirectory,
        };
    }

    public string Root { get; }
    public string Home { get; }
    public string ConfigPath { get; }
    public string CacheDirectory { get; }

    /// <summary>Variables of this user's shell; a null value unsets the variable.</summary>
    public Dictionary<string, string?> Environment { get; }

    public Task<CliResult> RunAsync(params string[] args) => RunWithAsync(null, args);

    /// <summary>Runs berth with extra variables for this one command (null unsets).</summary>
    public Task<CliResult> RunWithAsync(IReadOnlyDictionary<string, string?>? variables, params string[] args) => RunCoreAsync(variables, null, args);

    /// <summary>Runs berth with <paramref name="stdin"/> as its standard input.</summary>
    public Task<CliResult> RunWithInputAsync(string stdin, params string[] args) => RunCoreAsync(null, stdin, args);

    /// <summary>Starts berth and returns at once, for commands that run until stopped (<c>berth events --follow</c>).</summary>
    public RunningCli Start(params string[] args) => RunningCli.Start(StartInfo(null, args), args);

    /// <summary>
    /// Starts berth with its stdout piped into <paramref name="reader"/>, a shell command such as <c>head -n 2</c>.
    /// The pipeline's stdout is the reader's; its stderr is berth's, then a last line <c>berth exited N</c>.
    /// </summary>
    public RunningCli StartPiped(string reader, params string[] args)
    {
        var info = StartInfo(null, args);
        string[] shell = ["-c", $"\"$@\" | {reader}; echo \"berth exited ${{PIPESTATUS[0]}}\" >&2", "bash", info.FileName];
        for (var i = shell.Length - 1; i >= 0; i--)
        {
            info.ArgumentList.Insert(0, shell[i]);
        }

        info.FileName = "/bin/bash";
        return RunningCli.Start(info, args);
    }

    private async Task<CliResult> RunCoreAsync(IReadOnlyDictionary<string, string?>? variables, string? stdin, string[] args)
    {
        var (exitCode, stdout, stderr) = await ProcessRunner.RunAsync(StartInfo(variables, args), stdin, TestContext.Current.CancellationToken);
        return new CliResult(args, exitCode, stdout, stderr);
    }

    private ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string?>? variables, string[] args)
    {
        var info = BerthExecutable.StartInfo(args);
        info.WorkingDirectory = Home;
        foreach (var name in Cleared)
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in Environment.Concat(variables ?? new Dictionary<string, string?>()))
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        return info;
    }

    /// <summary>Logs this user in (through the CLI) and checks that it worked.</summary>
    public async Task LoginAsync(ServerProcess server, string? defaultNamespace = null)
    {
        List<string> args = ["login", server.Url, "--token", server.AdminToken];
        if (defaultNamespace is not null)
        {
            args.AddRange(["--namespace", defaultNamespace]);
        }

        (await RunAsync([.. args])).Succeeded();
    }

    /// <summary>A user logged in as the administrator who has pushed a small version 1 of <paramref name="model"/> (<c>acme/fraud</c>).</summary>
    public static async Task<CliUser> WithVersionAsync(ServerProcess server, string model)
    {
        var user = new CliUser();
        using var folder = new ModelFolder(("weights.bin", 100));
        await user.LoginAsync(server);
        (await user.RunAsync("push", folder.Root, model)).Succeeded();
        return user;
    }

    /// <summary>A user whose server (BERTH_URL) is a port nothing listens on: for errors found before anything is sent.</summary>
    public static CliUser WithDeadServer(string token)
    {
        var user = new CliUser();
        user.Environment["BERTH_URL"] = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        user.Environment["BERTH_TOKEN"] = token;
        return user;
    }

    public void Dispose() => TempFolder.Delete(Root);
}
