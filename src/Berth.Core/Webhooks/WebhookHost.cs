using System.Net;
using System.Net.Sockets;

namespace Berth.Core.Webhooks;

/// <summary>
/// A webhook URL's host read the way browsers (the WHATWG URL standard) and resolvers (<c>inet_aton</c>) read it, so no
/// other spelling of an address slips past <see cref="AddressPolicy"/>: an IPv6 literal; an IPv4 address in any of its
/// spellings (<c>2130706433</c>, <c>0x7f000001</c>, <c>0177.0.0.1</c>, <c>127.1</c>, <c>0x7f.1</c>, a trailing dot); a
/// name under <c>localhost</c> (RFC 6761: always loopback, never asked of DNS); or else a DNS name.
/// </summary>
public sealed class WebhookHost
{
    private WebhookHost(string name, IReadOnlyList<IPAddress>? addresses)
    {
        Name = name;
        Addresses = addresses;
    }

    /// <summary>The host as written in the URL (IPv6 without brackets).</summary>
    public string Name { get; }

    /// <summary>The addresses the host stands for without asking DNS; null for a DNS name.</summary>
    public IReadOnlyList<IPAddress>? Addresses { get; }

    public bool IsLiteral => Addresses is not null;

    /// <summary>Reads a URL's host (<see cref="Uri.IdnHost"/>); null when it looks like an IPv4 address but is not a valid one (<c>256.1.1.1</c>, <c>08.0.0.1</c>).</summary>
    public static WebhookHost? Parse(string host)
    {
        var name = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (name.Contains(':', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(name, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 ? new WebhookHost(name, [v6]) : null;
        }

        var lower = name.ToLowerInvariant();
        var trimmed = lower.EndsWith('.') ? lower[..^1] : lower;
        if (EndsInANumber(trimmed))
        {
            return TryParseIPv4(trimmed) is { } v4 ? new WebhookHost(name, [v4]) : null;
        }

        if (trimmed == "localhost" || trimmed.EndsWith(".localhost", StringComparison.Ordinal))
        {
            return new WebhookHost(name, [IPAddress.Loopback, IPAddress.IPv6Loopback]);
        }

        return new WebhookHost(name, null);
    }

    /// <summary>The addresses to connect to: the literal ones, or what DNS answers for the name.</summary>
    /// <exception cref="SocketException">The name does not resolve.</exception>
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(CancellationToken cancellationToken) =>
        Addresses ?? await Dns.GetHostAddressesAsync(Name, cancellationToken);

    /// <summary>WHATWG "ends in a number": the last label is decimal digits or <c>0x</c> and hex digits.</summary>
    private static bool EndsInANumber(string host)
    {
        var last = host[(host.LastIndexOf('.') + 1)..];
        if (last.Length == 0)
        {
            return false;
        }

        if (last.All(char.IsAsciiDigit))
        {
            return true;
        }

        return last.StartsWith("0x", StringComparison.Ordinal) && last[2..].All(char.IsAsciiHexDigit);
    }

    /// <summary>
    /// <c>inet_aton</c> and the WHATWG IPv4 parser: one to four parts, each decimal, octal (leading 0) or hex (0x); every
    /// part but the last is one byte, the last fills the remaining bytes (<c>127.1</c> is 127.0.0.1).
    /// </summary>
    internal static IPAddress? TryParseIPv4(string host)
    {
        var parts = host.Split('.');
        if (parts.Length > 4)
        {
            return null;
        }

        var numbers = new ulong[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (ParsePart(parts[i]) is not { } number)
            {
                return null;
            }

            numbers[i] = number;
        }

        for (var i = 0; i < numbers.Length - 1; i++)
        {
            if (numbers[i] > 255)
            {
                return null;
            }
        }

        var lastBytes = 5 - numbers.Length;
        if (numbers[^1] >= 1UL << (8 * lastBytes))
        {
            return null;
        }

        ulong value = numbers[^1];
        for (var i = 0; i < numbers.Length - 1; i++)
        {
            value += numbers[i] << (8 * (3 - i));
        }

        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }

    private static ulong? ParsePart(string part)
    {
        if (part.Length == 0)
        {
            return null;
        }

        var (digits, radix) = part.StartsWith("0x", StringComparison.Ordinal) ? (part[2..], 16)
            : part.Length > 1 && part[0] == '0' ? (part[1..], 8)
            : (part, 10);
        if (digits.Length == 0)
        {
            return 0; // "0x" alone is zero (WHATWG)
        }

        if (digits.Length > 16)
        {
            return null; // far beyond any 32-bit value; also keeps the arithmetic below from overflowing
        }

        ulong value = 0;
        foreach (var c in digits)
        {
            var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiHexDigit(c) ? char.ToLowerInvariant(c) - 'a' + 10 : radix;
            if (digit >= radix)
            {
                return null;
            }

            value = (value * (ulong)radix) + (ulong)digit;
            if (value > uint.MaxValue)
            {
                return null;
            }
        }

        return value;
    }

    public override string ToString() => Name;
}
