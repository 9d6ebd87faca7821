using System.Net;
using System.Net.Sockets;
using Berth.Contracts.Dtos;
using Berth.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Berth.Core.Webhooks;

/// <summary>Why an address may not be called.</summary>
/// <param name="Kind">What the network is, e.g. "loopback".</param>
/// <param name="Always">True for the networks no setting opens (link-local, metadata, unspecified, multicast).</param>
public sealed record AddressRefusal(IPAddress Address, IPNetwork Network, string Kind, bool Always)
{
    public const string DeniedKind = "denied by Webhooks:DeniedNetworks";
}

/// <summary>
/// Which addresses webhooks may call, so that a namespace admin cannot make the server call (and read) services only
/// it can reach. In order:
/// <list type="number">
/// <item>never: link-local (cloud metadata services), unspecified, multicast and broadcast addresses;</item>
/// <item>the operator's lists: when an address is in networks of <c>Webhooks:AllowedNetworks</c> or
/// <c>Webhooks:DeniedNetworks</c>, the most specific of them decides (denied wins a tie);</item>
/// <item>otherwise loopback, private (RFC 1918), carrier-grade NAT, unique-local, site-local and the reserved ranges are
/// refused, and every other address is allowed.</item>
/// </list>
/// An IPv6 address that carries an IPv4 address (NAT64, 6to4, Teredo, IPv4-compatible) is allowed only if the IPv4 address
/// is too; an IPv4-mapped address is its IPv4 address. Hosts are read as browsers and resolvers read them
/// (<see cref="WebhookHost"/>), resolved once, and the call connects to exactly the addresses that were checked.
/// </summary>
public sealed class AddressPolicy
{
    private readonly (IPNetwork Network, bool Allow)[] _rules;

    public AddressPolicy(IOptions<WebhookOptions> options)
    {
        _rules = [.. options.Value.AllowedNetworks.Select(n => (Parse(n), true)), .. options.Value.DeniedNetworks.Select(n => (Parse(n), false))];
    }

    /// <summary>Null when the address may be called; otherwise why not.</summary>
    public AddressRefusal? Check(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (CheckOne(address) is { } refusal)
        {
            return refusal;
        }

        foreach (var embedded in SpecialNetworks.Embedded(address))
        {
            if (CheckOne(embedded) is { } inner)
            {
                return inner;
            }
        }

        return null;
    }

    /// <summary>
    /// The addresses to call for a host: resolved once, every one checked (one refused address refuses the host, so a
    /// DNS answer cannot mix a forbidden address in).
    /// </summary>
    /// <exception cref="WebhookAddressException">The host does not resolve or names an address webhooks may not call.</exception>
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(WebhookHost host, CancellationToken cancellationToken)
    {
        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = await host.ResolveAsync(cancellationToken);
        }
        catch (SocketException e)
        {
            throw new WebhookAddressException(DeliveryErrors.DnsFailure, $"the host '{host}' does not resolve", $"the host '{host}' does not resolve: {e.SocketErrorCode}");
        }

        if (addresses.Count == 0)
        {
            throw new WebhookAddressException(DeliveryErrors.DnsFailure, $"the host '{host}' does not resolve", $"the host '{host}' resolves to no address");
        }

        foreach (var address in addresses)
        {
            if (Check(address) is { } refusal)
            {
                throw new WebhookAddressException(DeliveryErrors.AddressRefused, Describe(host, refusal), $"{host} resolves to {address}: {Explain(refusal)}");
            }
        }

        return addresses;
    }

    /// <summary>
    /// For the namespace admin: a literal address is named with its range; for a DNS name only the kind of range it
    /// resolves to is told, not the address (which would map the server's internal DNS for whoever asks).
    /// </summary>
    private static string Describe(WebhookHost host, AddressRefusal refusal) => host.IsLiteral
        ? $"{host} is {Explain(refusal)}"
        : $"{host} resolves to an address webhooks may not call ({Kind(refusal)})";

    private static string Explain(AddressRefusal refusal) =>
        $"{(refusal.Kind == AddressRefusal.DeniedKind ? "in" : "an address in")} {refusal.Network} ({refusal.Kind}), which webhooks may not call"
        + (refusal.Always || refusal.Kind == AddressRefusal.DeniedKind ? "" : " unless the server's Webhooks:AllowedNetworks permits it");

    private static string Kind(AddressRefusal refusal) => refusal.Kind == AddressRefusal.DeniedKind ? refusal.Kind : refusal.Kind + " " + refusal.Network;

    private AddressRefusal? CheckOne(IPAddress address)
    {
        foreach (var (network, kind) in SpecialNetworks.Never)
        {
            if (network.Contains(address))
            {
                return new AddressRefusal(address, network, kind, Always: true);
            }
        }

        (IPNetwork Network, bool Allow)? decisive = null;
        foreach (var rule in _rules)
        {
            if (rule.Network.Contains(address) && (decisive is not { } best || rule.Network.PrefixLength > best.Network.PrefixLength
                || (rule.Network.PrefixLength == best.Network.PrefixLength && !rule.Allow)))
            {
                decisive = rule;
            }
        }

        if (decisive is { } chosen)
        {
            return chosen.Allow ? null : new AddressRefusal(address, chosen.Network, AddressRefusal.DeniedKind, Always: false);
        }

        foreach (var (network, kind) in SpecialNetworks.RefusedByDefault)
        {
            if (network.Contains(address))
            {
                return new AddressRefusal(address, network, kind, Always: false);
            }
        }

        return null;
    }

    private static IPNetwork Parse(string cidr) =>
        IPNetwork.TryParse(cidr, out var network) ? network
        : IPAddress.TryParse(cidr, out var single) ? new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
        : throw new OptionsValidationException(WebhookOptions.SectionName, typeof(WebhookOptions), [$"'{cidr}' is not a network (CIDR such as 10.0.0.0/8) or an address."]);
}
