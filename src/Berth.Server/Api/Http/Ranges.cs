using System.Globalization;
using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Http;

/// <summary>
/// Refuses a <c>Range</c> that lies wholly outside a file as a problem (416 <c>range_not_satisfiable</c>, with
/// <c>Content-Range: bytes */&lt;size&gt;</c>), before the file result would answer it with a bare, typed-but-empty
/// 416. Every other range (and a stale <c>If-Range</c>, which makes it a full download) is left to the file result.
/// </summary>
internal static class Ranges
{
    public static void RejectUnsatisfiable(HttpRequest request, long size, string entityTag)
    {
        var header = request.Headers.Range;
        if (header.Count != 1 || header[0] is not { } text || text.Contains(',', StringComparison.Ordinal))
        {
            return;
        }

        // Preconditions come first (RFC 9110 §13.2.2): a conditional request is left to the file result.
        if ((request.Headers.IfRange.Count > 0 && request.Headers.IfRange.ToString() != entityTag)
            || request.Headers.IfNoneMatch.Count > 0 || request.Headers.IfMatch.Count > 0)
        {
            return;
        }

        if (!RangeHeaderValue.TryParse(text, out var range) || !string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase)
            || range.Ranges.Count != 1)
        {
            return;
        }

        var only = range.Ranges.Single();
        var satisfiable = only.From is { } from ? from < size : only.To is > 0 && size > 0;
        if (satisfiable)
        {
            return;
        }

        var total = size.ToString(CultureInfo.InvariantCulture);
        throw new RegistryException(ErrorCodes.RangeNotSatisfiable, $"The range '{text}' lies outside the file, which has {total} bytes.")
        {
            Headers = new Dictionary<string, string> { ["Content-Range"] = $"bytes */{total}", ["Accept-Ranges"] = "bytes" },
        };
    }
}
