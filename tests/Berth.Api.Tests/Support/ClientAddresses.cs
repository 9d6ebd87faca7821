using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Berth.Api.Tests.Support;

/// <summary>
/// Clients that connect from another loopback address (127.0.0.2, 127.0.0.3 …: on Linux all of 127/8 is the
/// loopback), so that the server sees requests from several client addresses.
/// </summary>
public static class ClientAddresses
{
    public static HttpClient NewHttpFrom(this TestServer server, string localAddress, string? token = null)
    {
        var local = new IPEndPoint(IPAddress.Parse(localAddress), 0);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(local);
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var http = new HttpClient(handler) { BaseAddress = server.Address };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }
}
