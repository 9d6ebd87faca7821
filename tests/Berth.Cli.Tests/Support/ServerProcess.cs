using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Berth.Cli.Tests.Support;

/// <summary>
/// <c>berth serve</c> as a child process on 127.0.0.1 and a free port, over a fresh data folder and a fresh
/// <see cref="TestDatabase"/>. Ready when /healthz answers; the administrator's token is read from
/// <c>&lt;data&gt;/admin-token</c>. Disposing kills the process.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartupDeadline = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly StringBuilder _log;
    private readonly bool _fsync;
    private readonly IReadOnlyDictionary<string, string>? _environment;
    private bool _keepData;
    private bool _replicaOwnsFolder;
    private bool _replica;

    private ServerProcess(Process process, StringBuilder log, string data, TestDatabase database, string url, string token, bool fsync, IReadOnlyDictionary<string, string>? environment)
    {
        _environment = environment;
        _process = process;
        _log = log;
        DataDirectory = data;
        Database = database;
        Url = url;
        AdminToken = token;
        _fsync = fsync;
    }

    public string Url { get; }
    public string AdminToken { get; }
    public string DataDirectory { get; }
    public TestDatabase Database { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static Task<ServerProcess> StartAsync(CancellationToken cancellationToken) => StartAsync(fsync: false, cancellationToken);

    /// <param name="environment">Extra environment variables for the server (settings such as <c>BERTH_Webhooks__RetryDelay</c>).</param>
    public static Task<ServerProcess> StartAsync(bool fsync, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null) =>
        StartAsync(null, null, null, fsync, environment, cancellationToken);

    /// <summary>
    /// A server on SQLite and a local folder (the embedded default) whatever database the tests run on, over
    /// <paramref name="data"/> (a folder the caller owns and deletes) or a fresh one.
    /// </summary>
    public static Task<ServerProcess> StartEmbeddedAsync(string? data, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        data ??= TempFolder.Create("berth-cli-server");
        return StartAsync(data, TestDatabase.Sqlite(data), null, fsync: false, environment, cancellationToken);
    }

    /// <summary>
    /// A server over the (empty) folder <paramref name="dataDirectory"/>, for a test that prepared it (a small file system of its
    /// own) and removes it; disposing deletes what the server wrote there.
    /// </summary>
    public static Task<ServerProcess> StartInAsync(string dataDirectory, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null) =>
        StartAsync(dataDirectory, null, null, fsync: true, environment, cancellationToken);

    /// <summary>True while the process runs (it was neither killed nor restarted, nor did it stop by itself).</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>Starts this server again, on its data folder, database, address and settings (after <see cref="KillAsync"/>).</summary>
    public Task<ServerProcess> RestartAsync(CancellationToken cancellationToken) => StartAsync(DataDirectory, Database, Url, _fsync, _environment, cancellationToken);

    private static async Task<ServerProcess> StartAsync(string? data, TestDatabase? database, string? url, bool fsync, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var reuse = data is not null;
            data ??= TempFolder.Create("berth-cli-server");
            database ??= await TestDatabase.CreateAsync(data, cancellationToken);
            url ??= $"http://127.0.0.1:{FreePort()}";
            string[] args = ["serve", "--data", data, "--urls", url, .. database.ServerArgs, .. fsync ? Array.Empty<string>() : ["--no-fsync"]];
            var info = BerthExecutable.StartInfo(args);
            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            {
                info.Environment[name] = value;
            }
            var log = new StringBuilder();
            var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start berth serve.");
            process.OutputDataReceived += (_, e) => Append(log, e.Data);
            process.ErrorDataReceived += (_, e) => Append(log, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.StandardInput.Close();

            if (await WaitUntilHealthyAsync(process, url, cancellationToken))
            {
                var token = (await File.ReadAllTextAsync(Path.Combine(data, "admin-token"), cancellationToken)).Trim();
                return new ServerProcess(process, log, data, database, url, token, fsync, environment);
            }

            string output;
            lock (log)
            {
                output = log.ToString();
            }

            Stop(process);
            // The free port can be taken between probing and binding: try another one.
            if (reuse || attempt >= 3 || !output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"berth serve did not become healthy at {url} (attempt {attempt}):\n{output}");
            }

            TempFolder.Delete(data);
            await database.DisposeAsync();
            data = null;
            database = null;
            url = null;
        }
    }

    /// <summary>
    /// Another replica of <paramref name="first"/>: a second <c>berth serve</c> process on its own port over the same
    /// database. On PostgreSQL it gets a data folder of its own; on SQLite the database lives in the data folder, so
    /// the two share it, and a folder of its own gets the first one's key file (as every replica of a deployment must).
    /// Give both the same blob store (<c>BERTH_BLOBS</c> in <paramref name="environment"/>).
    /// Disposing it leaves the database (and a shared folder) to <paramref name="first"/>.
    /// </summary>
    public static async Task<ServerProcess> StartReplicaAsync(ServerProcess first, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        var ownFolder = TestDatabase.IsPostgres;
        var data = ownFolder ? TempFolder.Create("berth-cli-replica") : first.DataDirectory;
        var url = $"http://127.0.0.1:{FreePort()}";
        string[] args = ["serve", "--data", data, "--urls", url, .. first.Database.ServerArgs, .. first._fsync ? Array.Empty<string>() : ["--no-fsync"]];
        var info = BerthExecutable.StartInfo(args);
        if (ownFolder)
        {
            info.Environment["BERTH_DataProtection__KeyFile"] = Path.Combine(first.DataDirectory, "data-protection.key");
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var log = new StringBuilder();
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start berth serve.");
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        if (!await WaitUntilHealthyAsync(process, url, cancellationToken))
        {
            Stop(process);
            string output;
            lock (log)
            {
                output = log.ToString();
            }

            if (ownFolder)
            {
                TempFolder.Delete(data);
            }

            throw new InvalidOperationException($"The replica did not become healthy at {url}:\n{output}");
        }

        return new ServerProcess(process, log, data, first.Database, url, first.AdminToken, first._fsync, environment)
        {
            _replica = true,
            _replicaOwnsFolder = ownFolder,
        };
    }

    /// <summary>Kills the server with SIGKILL (no shutdown at all) and keeps its data folder and database for <see cref="RestartAsync"/>.</summary>
    public async Task KillAsync()
    {
        _keepData = true;
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>A TCP port that nothing listens on right now (also used to simulate a server that is down).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Stop(_process);
        await _process.WaitForExitAsync();
        _process.Dispose();
        if (_replica)
        {
            if (_replicaOwnsFolder)
            {
                TempFolder.Delete(DataDirectory);
            }
        }
        else if (!_keepData)
        {
            TempFolder.Delete(DataDirectory);
            await Database.DisposeAsync();
        }
    }

    /// <summary>Waits until <paramref name="url"/>/healthz answers 200 (true), the process ends or the deadline (90 s unless given) passes (false).</summary>
    internal static async Task<bool> WaitUntilHealthyAsync(Process process, string url, CancellationToken cancellationToken, TimeSpan? within = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < (within ?? StartupDeadline))
        {
            if (process.HasExited)
            {
                return false;
            }

            try
            {
                using var response = await http.GetAsync(new Uri(url + "/healthz"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A slow first answer: ask again.
            }

            // Poll again soon, or at once when the process dies.
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            poll.CancelAfter(TimeSpan.FromMilliseconds(100));
            try
            {
                await process.WaitForExitAsync(poll.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }

        return false;
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
