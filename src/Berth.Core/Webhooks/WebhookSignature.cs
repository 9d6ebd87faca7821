using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Core.Webhooks;

/// <summary>
/// The <c>Berth-Signature</c> header: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "&lt;t&gt;." + body, keyed with the
/// webhook's secret&gt;</c>. The timestamp inside the signed bytes lets receivers refuse replays of old calls.
/// (The SDK has the receiving side: <c>Berth.Client.WebhookSignature.Verify</c>.)
/// </summary>
public static class WebhookSignature
{
    public const string Header = "Berth-Signature";

    public static string Create(string secret, DateTimeOffset time, ReadOnlySpan<byte> body)
    {
        var timestamp = time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }
}
