using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Berth.Testing;

/// <summary>
/// A PostgreSQL server of a test's own (initdb in a temporary folder, listening on 127.0.0.1 and a free port),
/// for tests that stop and restart the database under a running Berth, which they must never do to the server
/// that <c>scripts/test.sh</c> shares between all tests. The binaries are those <c>scripts/test.sh</c> found
/// (<see cref="BinVariable"/>), or the newest under <c>/usr/lib/postgresql/*/bin</c>; as root, they run as the
/// <c>postgres</c> user (PostgreSQL refuses to run as root). Berth connects as a password-authenticated role
/// that may create databases, as in production. Disposing stops the server at once and deletes its folder.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    /// <summary>The folder holding <c>initdb</c> and <c>pg_ctl</c>; <c>scripts/test.sh</c> sets it.</summary>
    public const string BinVariable = "BERTH_TEST_PG_BIN";

    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(90);

    private readonly string _bin;
    private readonly string _folder;
    private readonly string? _user;

    private ThrowawayPostgres(string bin, string folder, string? user, int port, string password)
    {
        _bin = bin;
        _folder = folder;
        _user = user;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "berth",
            Password = password,
            Database = "postgres",
        }.ToString();
    }

    public int Port { get; }

    /// <summary>The role <c>berth</c> (may create databases, no superuser) on the database <c>postgres</c>.</summary>
    public string ConnectionString { get; }

    private string DataFolder => Path.Combine(_folder, "data");

    private string RunFolder => Path.Combine(_folder, "run");

    public static async Task<ThrowawayPostgres> StartAsync(CancellationToken cancellationToken)
    {
        var bin = FindBinaries();
        var user = Environment.IsPrivilegedProcess ? await ServerUserAsync(cancellationToken) : null;
        var folder = TempFolder.Create("berth-own-pg");
        try
        {
            var data = Path.Combine(folder, "data");
            var run = Path.Combine(folder, "run");
            if (user is not null)
            {
                // The server's user must reach its folders (the temporary folder's parents are searchable by all).
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
                await RunAsync(null, "install", ["-d", "-o", user, "-m", "700", data, run], cancellationToken);
            }
            else
            {
                Directory.CreateDirectory(data);
                Directory.CreateDirectory(run);
            }

            await RunAsync(user, Path.Combine(bin, "initdb"),
                ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], cancellationToken);

            var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            for (var attempt = 1; ; attempt++)
            {
                // The port is written into the configuration, so a restart listens where the first start did.
                var port = FreePort();
                // (As root, root appends; the file keeps its owner and mode.)
                await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), $"""

                    listen_addresses = '127.0.0.1'
                    port = {port}
                    unix_socket_directories = '{run}'
                    fsync = off
                    full_page_writes = off
                    log_min_messages = warning

                    """, cancellationToken);
                var server = new ThrowawayPostgres(bin, folder, user, port, password);
                try
                {
                    await server.StartServerAsync(cancellationToken);
                }
                catch (InvalidOperationException) when (attempt < 5)
                {
                    // Someone took the port between the probe and the bind: the next line of the file wins.
                    continue;
                }

                await RunAsync(user, Path.Combine(bin, "psql"),
                    ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", run, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", "postgres",
                     "-c", $"CREATE ROLE berth LOGIN CREATEDB PASSWORD '{password}'"], cancellationToken);
                return server;
            }
        }
        catch
        {
            await StopQuietlyAsync(bin, folder, user);
            TempFolder.Delete(folder);
            throw;
        }
    }

    /// <summary>Stops the server: <c>fast</c> (clients get "terminating connection due to administrator command") or <c>immediate</c> (the processes are killed).</summary>
    public Task StopAsync(string mode, CancellationToken cancellationToken) =>
        RunAsync(_user, Path.Combine(_bin, "pg_ctl"), ["-D", DataFolder, "-m", mode, "-w", "-t", "60", "stop"], cancellationToken);

    /// <summary>Starts the (stopped) server again, on the same port and data; returns when it accepts connections.</summary>
    public Task StartServerAsync(CancellationToken cancellationToken) =>
        RunAsync(_user, Path.Combine(_bin, "pg_ctl"), ["-D", DataFolder, "-l", Path.Combine(RunFolder, "server.log"), "-w", "-t", "60", "start"], cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await StopQuietlyAsync(_bin, _folder, _user);
        TempFolder.Delete(_folder);
    }

    private static async Task StopQuietlyAsync(string bin, string folder, string? user)
    {
        if (File.Exists(Path.Combine(folder, "data", "postmaster.pid")))
        {
            try
            {
                await RunAsync(user, Path.Combine(bin, "pg_ctl"), ["-D", Path.Combine(folder, "data"), "-m", "immediate", "-w", "stop"], CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }
    }

    private static string FindBinaries()
    {
        if (Environment.GetEnvironmentVariable(BinVariable) is { Length: > 0 } configured)
        {
            return File.Exists(Path.Combine(configured, "initdb"))
                ? configured
                : throw new InvalidOperationException($"{BinVariable}={configured} holds no initdb.");
        }

        var found = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: Version.TryParse(Path.GetFileName(d), out var v) ? v : new Version(0, 0)))
                .Where(d => File.Exists(Path.Combine(d.Dir, "initdb")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Dir)
                .FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException(
            $"This test runs a PostgreSQL server of its own and needs its binaries (initdb, pg_ctl): scripts/test.sh installs them " +
            $"and sets {BinVariable}; otherwise install PostgreSQL (Debian: apt-get install postgresql) or set {BinVariable}.");
    }

    /// <summary>As root: the user the server runs as, <c>postgres</c> (the Debian package's) or <c>berth-pg</c> (as scripts/test.sh makes it).</summary>
    private static async Task<string> ServerUserAsync(CancellationToken cancellationToken)
    {
        foreach (var name in new[] { "postgres", "berth-pg" })
        {
            if (await ExitCodeAsync("id", [name], cancellationToken) == 0)
            {
                return name;
            }
        }

        await RunAsync(null, "useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "berth-pg"], cancellationToken);
        return "berth-pg";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<int> ExitCodeAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var (code, _) = await ExecuteAsync(null, file, arguments, cancellationToken);
        return code;
    }

    /// <exception cref="InvalidOperationException">The command failed; the message holds its output.</exception>
    private static async Task RunAsync(string? user, string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var (code, output) = await ExecuteAsync(user, file, arguments, cancellationToken);
        if (code != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments.Where(a => !a.Contains("PASSWORD", StringComparison.Ordinal)))} exited with {code}:\n{output}");
        }
    }

    private static async Task<(int Code, string Output)> ExecuteAsync(string? user, string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(user is null ? file : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (user is not null)
        {
            foreach (var argument in new[] { "-u", user, "--", file })
            {
                info.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CommandDeadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(file)} did not finish within {CommandDeadline.TotalSeconds} s.");
        }

        return (process.ExitCode, (await stdout) + (await stderr));
    }
}
