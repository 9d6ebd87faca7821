using System.Net;
using System.Net.Sockets;

namespace Berth.Cli.Tests.Support;

/// <summary>
/// A TCP proxy in front of replicas, as a load balancer: every new connection goes to the current
/// <see cref="Target"/>; <see cref="SwitchTo"/> sends later connections to another replica. Bytes from clients can be
/// throttled (a slow link), so that a test can act while an upload streams; so can bytes to clients
/// (<see cref="DownBytesPerSecond"/>), for downloads. It counts the bytes it sent to clients (<see cref="BytesDown"/>),
/// and <see cref="DropConnections"/> breaks every open connection, as a network failure would.
/// </summary>
public sealed class LoadBalancer : IAsyncDisposable
{
    private const int Chunk = 64 * 1024;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private volatile Uri _target;
    private long _bytesPerSecond;
    private long _downBytesPerSecond;
    private long _bytesDown;
    private readonly List<CancellationTokenSource> _open = [];

    public LoadBalancer(Uri target, long bytesPerSecond)
    {
        _target = target;
        _bytesPerSecond = bytesPerSecond;
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    public string Url { get; }

    public Uri Target => _target;

    /// <summary>Bytes sent from the servers to clients so far (headers included).</summary>
    public long BytesDown => Interlocked.Read(ref _bytesDown);

    /// <summary>Throttles bytes to clients (0: unthrottled).</summary>
    public long DownBytesPerSecond
    {
        get => Interlocked.Read(ref _downBytesPerSecond);
        set => Interlocked.Exchange(ref _downBytesPerSecond, value);
    }

    /// <summary>Breaks every connection open now (new ones are accepted as before).</summary>
    public void DropConnections()
    {
        lock (_open)
        {
            foreach (var connection in _open)
            {
                connection.Cancel();
            }
        }
    }

    /// <summary>New connections go to <paramref name="target"/>, unthrottled when <paramref name="bytesPerSecond"/> is 0.</summary>
    public void SwitchTo(Uri target, long bytesPerSecond)
    {
        _target = target;
        Interlocked.Exchange(ref _bytesPerSecond, bytesPerSecond);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_connections)
            {
                _connections.Add(ServeAsync(client, _target));
            }
        }
    }

    private async Task ServeAsync(TcpClient client, Uri target)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(target.Host, target.Port, _stop.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                return;
            }

            using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            lock (_open)
            {
                _open.Add(done);
            }

            var up = PumpAsync(client.GetStream(), server.GetStream(), upstream: true, done.Token);
            var down = PumpAsync(server.GetStream(), client.GetStream(), upstream: false, done.Token);
            await Task.WhenAny(up, down);
            lock (_open)
            {
                _open.Remove(done);
            }

            // One side closed or broke (a killed replica resets its connections): drop the other side too.
            await done.CancelAsync();
            client.Client.Close(0);
            server.Client.Close(0);
            await Task.WhenAll(up, down);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool upstream, CancellationToken cancellationToken)
    {
        var buffer = new byte[Chunk];
        try
        {
            int read;
            // Downloads are throttled in small steps, so that a test sees a file grow while it is written.
            var chunk = !upstream && DownBytesPerSecond > 0 ? 16 * 1024 : Chunk;
            while ((read = await from.ReadAsync(buffer.AsMemory(0, chunk), cancellationToken)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                if (!upstream)
                {
                    Interlocked.Add(ref _bytesDown, read);
                }

                var rate = upstream ? Interlocked.Read(ref _bytesPerSecond) : DownBytesPerSecond;
                if (rate > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)read / rate), cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection ended.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections);
        _stop.Dispose();
    }
}
