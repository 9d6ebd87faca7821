using System.Text;

namespace Berth.Cli.Tests.Support;

/// <summary>
/// A <c>berth serve</c> process that a test kills with SIGKILL and starts again on the same data folder, database and
/// address. Clients wait for it with <see cref="WaitUpAsync"/>, which completes at once while it runs. Disposing stops
/// it and removes its data folder and database.
/// </summary>
public sealed class RestartableServer : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly StringBuilder _earlierLogs = new();
    private ServerProcess _server;
    private TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RestartableServer(ServerProcess server)
    {
        _server = server;
        _up.SetResult();
    }

    public string Url => _server.Url;
    public string AdminToken => _server.AdminToken;
    public string DataDirectory => _server.DataDirectory;
    public TestDatabase Database => _server.Database;

    /// <summary>How many times the server was killed.</summary>
    public int Kills { get; private set; }

    /// <summary>When the server last became healthy (after its start or a restart).</summary>
    public DateTime UpSince { get; private set; } = DateTime.UtcNow;

    /// <summary>The output of every run of the server so far, oldest first.</summary>
    public string Log
    {
        get
        {
            lock (_gate)
            {
                return _earlierLogs + _server.Log;
            }
        }
    }

    public static async Task<RestartableServer> StartAsync(IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken) =>
        new(await ServerProcess.StartAsync(fsync: true, cancellationToken, environment));

    /// <summary>Completes when the server runs: at once, or when the restart after a kill has finished.</summary>
    public Task WaitUpAsync(CancellationToken cancellationToken)
    {
        Task up;
        lock (_gate)
        {
            up = _up.Task;
        }

        return up.WaitAsync(cancellationToken);
    }

    /// <summary>Kills the server with SIGKILL (no shutdown of any kind); it stays down until <see cref="RestartAsync"/>.</summary>
    public async Task KillAsync()
    {
        lock (_gate)
        {
            Assert.True(_up.Task.IsCompleted, "The server is already down.");
            _up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        await _server.KillAsync();
        Kills++;
    }

    /// <summary>Starts the killed server again on its data folder, database and address; returns once it is healthy.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        var next = await _server.RestartAsync(cancellationToken);
        var killed = _server;
        lock (_gate)
        {
            _earlierLogs.Append(killed.Log).AppendLine("----- killed; restarted -----");
            _server = next;
            UpSince = DateTime.UtcNow;
            _up.SetResult();
        }

        // The killed process is gone and its data kept: this only releases the process object.
        await killed.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        if (!_up.Task.IsCompleted)
        {
            // Killed and not restarted (a failed test): the killed process kept its data for a restart that won't come.
            TempFolder.Delete(_server.DataDirectory);
            await _server.Database.DisposeAsync();
            _up.TrySetResult();
        }
    }
}
