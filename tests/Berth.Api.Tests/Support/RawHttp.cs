using System.Net.Sockets;
using System.Text;

namespace Berth.Api.Tests.Support;

/// <summary>
/// HTTP/1.1 over a bare socket, for what HttpClient cannot show: whether the server answers before the client has sent
/// the whole body (it must not wait for bytes it will refuse), and what it does when a client goes away mid-body.
/// </summary>
public sealed class RawHttp : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawHttp(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    /// <summary>Connects and sends the request line and headers (Host and the admin's token added); the body is the caller's.</summary>
    public static async Task<RawHttp> StartAsync(TestServer server, string method, string path, IEnumerable<string> headers, CancellationToken cancellationToken)
    {
        var client = new TcpClient();
        await client.ConnectAsync(server.Address.Host, server.Address.Port, cancellationToken);
        var raw = new RawHttp(client);
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: {server.Address.Authority}\r\nAuthorization: Bearer {server.AdminToken}\r\n");
        foreach (var header in headers)
        {
            head.Append(header).Append("\r\n");
        }

        await raw.SendAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), cancellationToken);
        return raw;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(bytes, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    /// <summary>One chunk of a chunked body.</summary>
    public Task SendChunkAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var framed = new byte[bytes.Length + 32];
        var size = Encoding.ASCII.GetBytes($"{bytes.Length:x}\r\n", framed);
        bytes.Span.CopyTo(framed.AsSpan(size));
        Encoding.ASCII.GetBytes("\r\n", framed.AsSpan(size + bytes.Length));
        return SendAsync(framed.AsMemory(0, size + bytes.Length + 2), cancellationToken);
    }

    /// <summary>
    /// Reads the response's status and body (with Content-Length), waiting at most <paramref name="within"/>: a server that
    /// waits for the rest of a body the test never sends fails here.
    /// </summary>
    public async Task<(int Status, string Body)> ReadResponseAsync(TimeSpan within, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(within);
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        int headerEnd;
        while ((headerEnd = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
        {
            var read = await ReadAsync(chunk, timeout.Token, within);
            buffer.AddRange(chunk.AsSpan(0, read));
        }

        var head = Encoding.ASCII.GetString(buffer.GetRange(0, headerEnd).ToArray());
        var status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = head.Split("\r\n").Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        buffer.RemoveRange(0, headerEnd + 4);
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var body = new List<byte>();
            while (true)
            {
                int lineEnd;
                while ((lineEnd = IndexOf(buffer, "\r\n"u8)) < 0)
                {
                    buffer.AddRange(chunk.AsSpan(0, await ReadAsync(chunk, timeout.Token, within)));
                }

                var size = Convert.ToInt32(Encoding.ASCII.GetString(buffer.GetRange(0, lineEnd).ToArray()).Split(';')[0], 16);
                while (buffer.Count < lineEnd + 2 + size + 2)
                {
                    buffer.AddRange(chunk.AsSpan(0, await ReadAsync(chunk, timeout.Token, within)));
                }

                body.AddRange(buffer.GetRange(lineEnd + 2, size));
                buffer.RemoveRange(0, lineEnd + 2 + size + 2);
                if (size == 0)
                {
                    return (status, Encoding.UTF8.GetString(body.ToArray()));
                }
            }
        }

        var length = headers.TryGetValue("Content-Length", out var text) ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 0;
        while (buffer.Count < length)
        {
            buffer.AddRange(chunk.AsSpan(0, await ReadAsync(chunk, timeout.Token, within)));
        }

        return (status, Encoding.UTF8.GetString(buffer.GetRange(0, length).ToArray()));
    }

    private async Task<int> ReadAsync(byte[] chunk, CancellationToken cancellationToken, TimeSpan within)
    {
        try
        {
            var read = await _stream.ReadAsync(chunk, cancellationToken);
            return read > 0 ? read : throw new IOException("The server closed the connection before it answered.");
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The server did not answer within {within.TotalSeconds} s: it waits for body bytes it should have refused.");
        }
    }

    private static int IndexOf(List<byte> buffer, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i + value.Length <= buffer.Count; i++)
        {
            var match = true;
            for (var j = 0; j < value.Length && match; j++)
            {
                match = buffer[i + j] == value[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Drops the connection at once (a client that goes away mid-request).</summary>
    public void Abort()
    {
        _client.Client.LingerState = new LingerOption(true, 0);
        _client.Close();
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
