using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Contracts.Webhooks;

/// <summary>
/// The <c>Berth-Signature</c> header of a webhook call, made by the server (<see cref="Create"/>) and checked by
/// receivers (<see cref="Verify"/>; the SDK ships it): <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256&gt;</c>, where
/// the MAC covers <c>"&lt;t&gt;." + body</c> keyed with the webhook's secret. A receiver refuses a call whose MAC does not
/// match (forged or modified) or whose timestamp is older than the tolerance (replayed).
/// </summary>
public static class WebhookSignature
{
    public const string Header = "Berth-Signature";

    /// <summary>How old a call may be by default: five minutes, plus clock skew the other way.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>The header value for <paramref name="body"/> sent at <paramref name="time"/>.</summary>
    public static string Create(string secret, DateTimeOffset time, ReadOnlySpan<byte> body)
    {
        var timestamp = time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"t={timestamp},v1={Convert.ToHexStringLower(Mac(secret, timestamp, body))}";
    }

    /// <summary>True when <paramref name="header"/> signs <paramref name="body"/> (the raw request bytes) with <paramref name="secret"/>, recently.</summary>
    public static bool Verify(string secret, string? header, ReadOnlySpan<byte> body, TimeSpan? tolerance = null, DateTimeOffset? now = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (header is null)
        {
            return false;
        }

        string? timestamp = null;
        var signatures = new List<string>();
        foreach (var part in header.Split(','))
        {
            var pair = part.Trim().Split('=', 2);
            if (pair.Length != 2)
            {
                continue;
            }

            if (pair[0] == "t")
            {
                timestamp = pair[1];
            }
            else if (pair[0] == "v1")
            {
                signatures.Add(pair[1]);
            }
        }

        if (timestamp is null || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || signatures.Count == 0)
        {
            return false;
        }

        var age = (now ?? DateTimeOffset.UtcNow) - DateTimeOffset.FromUnixTimeSeconds(seconds);
        var limit = tolerance ?? DefaultTolerance;
        if (age > limit || age < -limit)
        {
            return false;
        }

        var expected = Mac(secret, timestamp, body);
        foreach (var signature in signatures)
        {
            // Several v1 values: the sender may sign with an old and a new secret while rotating.
            if (signature.Length == expected.Length * 2 && TryHex(signature, out var actual) && CryptographicOperations.FixedTimeEquals(actual, expected))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>HMAC-SHA256 of <c>"&lt;timestamp&gt;." + body</c>, keyed with the secret.</summary>
    private static byte[] Mac(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
    }

    private static bool TryHex(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
