using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Berth.Server.Api.Http;

/// <summary>
/// File paths in routes (<c>…/files/{**path}</c>), encoded or not. The server decodes every escape of a request's
/// path except <c>%2F</c>, which it leaves as the three characters <c>%2F</c> (a decoded '/' could not be told from a
/// separator), so <c>files/sub%2Fw.bin</c> reaches the endpoint as <c>sub%2Fw.bin</c>. Here the same tail of the
/// raw request target is decoded completely instead: <c>sub/w.bin</c>, exactly as <c>files/sub/w.bin</c>. A path
/// that decodes to something unsafe (<c>..%2F</c>, a backslash) is refused afterwards by the file path rules,
/// like any other.
/// </summary>
internal static partial class EncodedPath
{
    /// <summary>The decoded value of a catch-all route parameter (<paramref name="routeValue"/>, as routing gives it).</summary>
    public static string Decode(HttpContext context, string routeValue)
    {
        if (!routeValue.Contains('%', StringComparison.Ordinal))
        {
            // Nothing is left encoded (an escaped '%' became '%' too, so '%' also marks "maybe %2F").
            return routeValue;
        }

        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return routeValue;
        }

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var rawPath = query >= 0 ? raw[..query] : raw;

        // The tail has as many raw segments as the value has '/' plus one ('/' only ever comes from a raw '/').
        var segments = routeValue.Count(c => c == '/') + 1;
        var start = rawPath.Length;
        for (var i = 0; i < segments; i++)
        {
            start = start == 0 ? -1 : rawPath.LastIndexOf('/', start - 1);
            if (start < 0)
            {
                return routeValue;
            }
        }

        var tail = rawPath[(start + 1)..];

        // Only when the tail is what the server decoded (no dot segments were removed in between, say) is it the
        // same path; otherwise keep what routing gave.
        return DecodeExceptSlash(tail) == routeValue ? Uri.UnescapeDataString(tail) : routeValue;
    }

    /// <summary>Decodes like the server does: every escape except <c>%2F</c>.</summary>
    private static string DecodeExceptSlash(string raw) =>
        string.Concat(EncodedSlash().Split(raw).Select(part => EncodedSlash().IsMatch(part) ? part : Uri.UnescapeDataString(part)));

    [GeneratedRegex("(%2[fF])")]
    private static partial Regex EncodedSlash();
}
