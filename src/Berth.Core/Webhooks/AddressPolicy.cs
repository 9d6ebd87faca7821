using System.Net;
using System.Net.Sockets;
using Berth.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Berth.Core.Webhooks;

/// <summary>
/// Which addresses webhooks may call. Link-local networks (cloud metadata services live there), unspecified,
/// multicast and broadcast addresses are always refused; operators add their own denials, or restrict calls to an
/// allow-list. Checked on the URL when a webhook is saved, and on every address actually connected to, so a DNS
/// name that later resolves somewhere forbidden is refused too.
/// </summary>
public sealed class AddressPolicy
{
    private static readonly IPNetwork[] BuiltIn =
    [
        IPNetwork.Parse("169.254.0.0/16"), // IPv4 link-local, incl. 169.254.169.254 (AWS, GCP, Azure metadata)
        IPNetwork.Parse("fe80::/10"), // IPv6 link-local
        IPNetwork.Parse("fd00:ec2::254/128"), // AWS IPv6 metadata
        IPNetwork.Parse("100.100.100.200/32"), // Alibaba Cloud metadata
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("224.0.0.0/4"), // multicast
        IPNetwork.Parse("ff00::/8"),
        IPNetwork.Parse("255.255.255.255/32"),
    ];

    private readonly IPNetwork[] _denied;
    private readonly IPNetwork[] _allowed;

    public AddressPolicy(IOptions<WebhookOptions> options)
    {
        _denied = [.. BuiltIn, .. options.Value.DeniedNetworks.Select(Parse)];
        _allowed = [.. options.Value.AllowedNetworks.Select(Parse)];
    }

    /// <summary>Null when the address may be called; otherwise why not.</summary>
    public string? Check(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var denied in _denied)
        {
            if (denied.Contains(address))
            {
                return $"{address} is in {denied}, which webhooks may not call";
            }
        }

        if (_allowed.Length > 0 && !_allowed.Any(n => n.Contains(address)))
        {
            return $"{address} is not in the networks webhooks may call ({string.Join(", ", _allowed)})";
        }

        return null;
    }

    /// <summary>Resolves a host and checks every address it names; null when all may be called.</summary>
    public async Task<string?> CheckHostAsync(string host, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            }
            catch (SocketException e)
            {
                return $"the host '{host}' does not resolve ({e.SocketErrorCode})";
            }
        }

        return addresses.Select(Check).FirstOrDefault(r => r is not null);
    }

    private static IPNetwork Parse(string cidr) =>
        IPNetwork.TryParse(cidr, out var network) ? network
        : IPAddress.TryParse(cidr, out var single) ? new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
        : throw new OptionsValidationException(WebhookOptions.SectionName, typeof(WebhookOptions), [$"'{cidr}' is not a network (CIDR such as 10.0.0.0/8) or an address."]);
}
