using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace Berth.Server.Hosting;

/// <summary>
/// The addresses of <c>--urls</c>: checked before anything is created (a port that is taken stops start-up with one
/// line naming the setting, before a data folder or an administrator exists), and turned back into the URL a user
/// logs in with.
/// </summary>
internal static class ListenAddresses
{
    public const string Setting = "--urls (BERTH_URLS)";

    /// <summary>Parses the ';'-separated addresses and checks that each can be listened on now.</summary>
    /// <exception cref="StartupException">An address is malformed, taken, or not this machine's.</exception>
    public static IReadOnlyList<string> Check(string urls)
    {
        var list = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var url in list)
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                throw new StartupException($"{Setting}: '{url}' is not an address to listen on (e.g. http://127.0.0.1:8282).");
            }

            if (address.Port == 0 || address.IsUnixPipe || address.IsNamedPipe)
            {
                // A port the system picks is always free; sockets and pipes are checked by the server itself.
                continue;
            }

            foreach (var ip in Endpoints(address.Host))
            {
                Probe(url, ip, address.Port);
            }
        }

        return list;
    }

    /// <summary>The URL to log in with: the first address the server listens on, with a wildcard host made local.</summary>
    public static string LoginUrl(IEnumerable<string> listening)
    {
        var first = listening.FirstOrDefault() ?? ServerSettings.DefaultUrls;
        if (!Uri.TryCreate(first, UriKind.Absolute, out var uri))
        {
            return first;
        }

        var host = uri.Host is "0.0.0.0" or "[::]" or "::" or "*" or "+" ? "127.0.0.1" : uri.Host;
        return new UriBuilder(uri) { Host = host }.Uri.GetLeftPart(UriPartial.Authority);
    }

    /// <summary>The addresses the server binds for a host, as Kestrel does: loopback for localhost, the IP itself, or every interface.</summary>
    private static IEnumerable<IPAddress> Endpoints(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            yield return IPAddress.Loopback;
        }
        else if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            yield return ip;
        }
        else
        {
            yield return Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any;
        }
    }

    private static void Probe(string url, IPAddress ip, int port)
    {
        var listener = new TcpListener(ip, port);
        try
        {
            if (ip.Equals(IPAddress.IPv6Any))
            {
                listener.Server.DualMode = true;
            }

            if (!OperatingSystem.IsWindows())
            {
                // As the server binds: connections of a server that just stopped (TIME_WAIT) do not hold the port,
                // a socket that listens on it does.
                listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            listener.Start();
        }
        catch (SocketException e)
        {
            var reason = e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "address already in use (another server, or another program, listens there); stop it or choose another address",
                SocketError.AddressNotAvailable => "the address is not one of this machine's",
                SocketError.AccessDenied => "permission denied (ports below 1024 need privileges)",
                _ => e.Message,
            };
            throw new StartupException($"{Setting}: cannot listen on {url}: {reason}.", e);
        }
        finally
        {
            listener.Stop();
        }
    }
}
