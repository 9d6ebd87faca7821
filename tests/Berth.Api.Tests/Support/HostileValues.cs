using System.Text;

namespace Berth.Api.Tests.Support;

/// <summary>
/// A hostile value for one place of a request. <see cref="Text"/> is the value itself (for JSON and for messages);
/// <see cref="Url"/> is how it is written into a URL (percent-encoded, or raw on purpose, like <c>..</c>);
/// <see cref="MayResolveElsewhere"/> marks dot segments, which HTTP resolves before routing, so the request may reach
/// another (existing) resource. <see cref="MayBeAName"/> marks values that are odd but valid names of some kind
/// (<c>0</c>, <c>1e309</c>, <c>CON</c>: a model, a metric key), which a server may rightly accept.
/// </summary>
public sealed record HostileValue(string Name, string Text, string Url, bool MayResolveElsewhere = false)
{
    public bool MayBeAName => Name is "zero" or "long max + 1" or "1e309" or "uppercase" or "windows device";

    public override string ToString() => Name;
}

/// <summary>The catalogue of hostile inputs the hostile-input tests draw from.</summary>
public static class HostileValues
{
    /// <summary>Stand-ins for lone surrogates, which no JSON writer writes: <see cref="ToJson"/> puts them in as escapes.</summary>
    public const string LoneHigh = "a~lone-high~b";
    public const string LoneLow = "~lone-low~";

    public const string ZeroDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>Strings that break names, paths, digests and parsers.</summary>
    public static readonly IReadOnlyList<HostileValue> Strings =
    [
        Make("empty", "", resolves: true),
        Make("space", " "),
        Make("huge (100k)", new string('a', 100_000), url: new string('a', 4_000)),
        Make("NUL", "a\0b"),
        Make("trailing newline", "champion\n"),
        Make("CRLF", "a\r\nX-Injected: 1"),
        Make("lone high surrogate", LoneHigh, url: "a%ED%A0%80b"),
        Make("lone low surrogate", LoneLow, url: "%ED%B0%80"),
        Make("invalid UTF-8", "a\uFFFDb", url: "a%FFb"),
        Make("RTL override", "evil\u202Egpj.exe"),
        Make("zero-width space", "a\u200Bb"),
        Make("BOM", "\uFEFFa"),
        Make("emoji", "\uD83D\uDE00"),
        Make("Kelvin sign", "\u212A"),
        Make("uppercase", "Champion"),
        Make("dot-dot", "..", url: "..", resolves: true),
        Make("dot-dot encoded", "..", url: "%2e%2e", resolves: true),
        Make("traversal", "../../etc/passwd", url: "..%2F..%2Fetc%2Fpasswd"),
        Make("encoded slash", "a/b", url: "a%2Fb"),
        Make("double-encoded traversal", "%2e%2e%2fx", url: "%252e%252e%252fx"),
        Make("backslash", "..\\..\\win.ini", url: "..%5C..%5Cwin.ini"),
        Make("absolute", "/etc/passwd", url: "%2Fetc%2Fpasswd"),
        Make("windows device", "CON"),
        Make("percent", "100%"),
        Make("short digest", "sha256:abc"),
        Make("uppercase digest", "sha256:" + new string('A', 64)),
        Make("sha512 digest", "sha512:" + new string('0', 128)),
        Make("md5 digest", "md5:" + new string('0', 32)),
        Make("digest with newline", ZeroDigest + "\n"),
        Make("negative", "-1"),
        Make("zero", "0"),
        Make("long max + 1", "9223372036854775808"),
        Make("1e309", "1e309"),
        Make("semver with build", "1.0.0+build"),
        Make("quotes", "'\"`;--"),
        Make("html", "<script>alert(1)</script>"),
        Make("url", "http://169.254.169.254/latest/meta-data/"),
        Make("template", "{namespace}"),
    ];

    /// <summary>Numbers no field should take whole: beyond every integer type, fractions, non-numbers.</summary>
    public static readonly IReadOnlyList<(string Name, string Json)> AbsurdNumbers =
    [
        ("negative", "-1"),
        ("long min", "-9223372036854775808"),
        ("long max", "9223372036854775807"),
        ("beyond long", "92233720368547758070"),
        ("1e309", "1e309"),
        ("-1e309", "-1e309"),
        ("fraction", "1.5"),
        ("tiny", "4.9e-324"),
        ("a thousand digits", new string('9', 1000)),
    ];

    /// <summary>Header values that are odd but well-formed enough for an HTTP client to send.</summary>
    public static readonly IReadOnlyList<string> Accepts =
    [
        "text/html", "*/*;q=0", "application/json;q=0", "application/octet-stream", "application/xml", "image/*", "a/b/c;;;q=x", "",
    ];

    /// <summary>Content types a JSON body is sent with: wrong, odd, or missing (null).</summary>
    public static readonly IReadOnlyList<string?> ContentTypes =
    [
        "text/html", "application/json; charset=utf-16", "application/json; charset=bogus", "application/x-www-form-urlencoded",
        "multipart/form-data", "text/plain", null,
    ];

    /// <summary>Authorization headers that must never let a call through (null: none at all).</summary>
    public static IReadOnlyList<(string Name, string? Header)> ForgedTokens(string realToken) =>
    [
        ("no token", null),
        ("wrong secret", "Bearer " + TokenLike('q')),
        ("truncated token", "Bearer " + realToken[..20]),
        ("token with an extra character", "Bearer " + realToken + "a"),
        ("uppercased token", "Bearer " + realToken.ToUpperInvariant()),
        ("empty bearer", "Bearer "),
        ("basic", "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("admin:admin"))),
        ("JWT with alg none", "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsImFkbWluIjp0cnVlfQ."),
        ("JWT with a wrong signature", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"),
        ("huge token", "Bearer berth_" + new string('a', 8_000)),
    ];

    /// <summary>JSON text with the lone-surrogate stand-ins replaced by their escapes (<c>\uD800</c>, <c>\uDC00</c>).</summary>
    public static string ToJson(string json) =>
        json.Replace("~lone-high~", "\\uD800", StringComparison.Ordinal).Replace("~lone-low~", "\\uDC00", StringComparison.Ordinal);

    private static string TokenLike(char c) => "berth_" + new string(c, 48);

    private static HostileValue Make(string name, string text, string? url = null, bool resolves = false) =>
        new(name, text, url ?? Encode(text), resolves);

    /// <summary>Percent-encodes every byte of the UTF-8 form except unreserved characters (RFC 3986).</summary>
    public static string Encode(string text)
    {
        var url = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                url.Append((char)b);
            }
            else
            {
                url.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return url.ToString();
    }
}
