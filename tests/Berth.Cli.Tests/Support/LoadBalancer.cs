using System.Net;
using System.Net.Sockets;

namespace Berth.Cli.Tests.Support;

/// <summary>
/// A TCP proxy in front of replicas, as a load balancer: every new connection goes to the current
/// <see cref="Target"/>; <see cref="SwitchTo"/> sends later connections to another replica. Bytes from clients can be
/// throttled (a slow link), so that a test can act while an upload streams.
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
            var up = PumpAsync(client.GetStream(), server.GetStream(), throttled: true, done.Token);
            var down = PumpAsync(server.GetStream(), client.GetStream(), throttled: false, done.Token);
            await Task.WhenAny(up, down);
            // One side closed or broke (a killed replica resets its connections): drop the other side too.
            await done.CancelAsync();
            client.Client.Close(0);
            server.Client.Close(0);
            await Task.WhenAll(up, down);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool throttled, CancellationToken cancellationToken)
    {
        var buffer = new byte[Chunk];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                var rate = Interlocked.Read(ref _bytesPerSecond);
                if (throttled && rate > 0)
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
