using System.Net;
using System.Net.Sockets;

namespace Berth.Core.Webhooks;

/// <summary>
/// The address ranges <see cref="AddressPolicy"/> knows (from the IANA special-purpose address registries): those
/// webhooks never call, those they call only when an operator permits them, and the IPv6 forms that carry an IPv4
/// address inside (a translator or tunnel delivers the call to that IPv4 address, so it is checked too).
/// </summary>
internal static class SpecialNetworks
{
    /// <summary>Never called, whatever the settings: cloud metadata services live here, and nothing else is a receiver.</summary>
    public static readonly (IPNetwork Network, string Kind)[] Never =
    [
        (IPNetwork.Parse("169.254.0.0/16"), "link-local (cloud metadata services: 169.254.169.254)"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fd00:ec2::254/128"), "the AWS metadata service"),
        (IPNetwork.Parse("100.100.100.200/32"), "the Alibaba Cloud metadata service"),
        (IPNetwork.Parse("168.63.129.16/32"), "the Azure platform endpoint"),
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified ('this network')"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
        (IPNetwork.Parse("255.255.255.255/32"), "broadcast"),
    ];

    /// <summary>Refused unless <c>Webhooks:AllowedNetworks</c> permits them: not public receivers.</summary>
    public static readonly (IPNetwork Network, string Kind)[] RefusedByDefault =
    [
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("10.0.0.0/8"), "private (RFC 1918)"),
        (IPNetwork.Parse("172.16.0.0/12"), "private (RFC 1918)"),
        (IPNetwork.Parse("192.168.0.0/16"), "private (RFC 1918)"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared address space (carrier-grade NAT)"),
        (IPNetwork.Parse("fc00::/7"), "unique-local (private IPv6)"),
        (IPNetwork.Parse("fec0::/10"), "site-local (private IPv6)"),
        (IPNetwork.Parse("192.0.0.0/24"), "reserved for IETF protocol assignments"),
        (IPNetwork.Parse("192.0.2.0/24"), "reserved for documentation"),
        (IPNetwork.Parse("198.51.100.0/24"), "reserved for documentation"),
        (IPNetwork.Parse("203.0.113.0/24"), "reserved for documentation"),
        (IPNetwork.Parse("2001:db8::/32"), "reserved for documentation"),
        (IPNetwork.Parse("3fff::/20"), "reserved for documentation"),
        (IPNetwork.Parse("198.18.0.0/15"), "reserved for benchmarking"),
        (IPNetwork.Parse("2001:2::/48"), "reserved for benchmarking"),
        (IPNetwork.Parse("192.88.99.0/24"), "the deprecated 6to4 relay anycast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
        (IPNetwork.Parse("100::/64"), "discard-only"),
        (IPNetwork.Parse("2001:10::/28"), "reserved (ORCHID)"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "a local-use IPv4/IPv6 translation prefix"),
        (IPNetwork.Parse("::/96"), "IPv4-compatible (deprecated)"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork LocalNat64 = IPNetwork.Parse("64:ff9b:1::/48");
    private static readonly IPNetwork Translated = IPNetwork.Parse("::ffff:0:0:0/96");
    private static readonly IPNetwork Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork Teredo = IPNetwork.Parse("2001::/32");

    /// <summary>
    /// The IPv4 addresses an IPv6 address carries: NAT64 (64:ff9b::/96, and 64:ff9b:1::/48 in its /96 form) and SIIT
    /// (::ffff:0:a.b.c.d) in the last 32 bits; IPv4-compatible (::a.b.c.d); 6to4 (2002:AABB:CCDD::) after the prefix;
    /// Teredo (2001:0:&lt;server&gt;::&lt;client, inverted&gt;) both the server and the client. IPv4-mapped addresses
    /// (::ffff:a.b.c.d) are IPv4 addresses already (<see cref="AddressPolicy"/> maps them first).
    /// </summary>
    public static IEnumerable<IPAddress> Embedded(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            yield break;
        }

        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address) || LocalNat64.Contains(address) || Translated.Contains(address))
        {
            yield return new IPAddress(bytes.AsSpan(12, 4));
        }
        else if (Compatible.Contains(address) && (bytes[12] != 0 || bytes[13] != 0))
        {
            // ::a.b.c.d; leaves out ::, ::1 and the rest of ::/112, which are not IPv4 addresses.
            yield return new IPAddress(bytes.AsSpan(12, 4));
        }
        else if (SixToFour.Contains(address))
        {
            yield return new IPAddress(bytes.AsSpan(2, 4));
        }
        else if (Teredo.Contains(address))
        {
            yield return new IPAddress(bytes.AsSpan(4, 4));
            yield return new IPAddress([(byte)~bytes[12], (byte)~bytes[13], (byte)~bytes[14], (byte)~bytes[15]]);
        }
    }
}
