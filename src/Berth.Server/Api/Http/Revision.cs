using System.Globalization;
using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Http;

/// <summary>
/// Strong ETags for mutable resources: <c>"&lt;kind&gt;&lt;id&gt;.&lt;revision&gt;"</c>, so that two
/// versions reached through the same alias never share one. If-Match is parsed back to a revision.
/// </summary>
internal static class Revision
{
    public static string ETag(char kind, long id, long revision) =>
        $"\"{kind}{id.ToString(CultureInfo.InvariantCulture)}.{revision.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>
    /// The revision the client expects, from If-Match: null when absent or '*'. A tag for another
    /// resource or in another format can never match, so it is reported as revision -1 (a 412).
    /// </summary>
    public static long? FromIfMatch(HttpRequest request, char kind, long id)
    {
        var header = request.Headers[HeaderNames.IfMatch].ToString().Trim();
        if (header.Length == 0 || header == "*")
        {
            return null;
        }

        var prefix = $"\"{kind}{id.ToString(CultureInfo.InvariantCulture)}.";
        foreach (var candidate in header.Split(','))
        {
            var tag = candidate.Trim();
            if (tag.StartsWith(prefix, StringComparison.Ordinal) && tag.EndsWith('"') &&
                long.TryParse(tag.AsSpan(prefix.Length, tag.Length - prefix.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
            {
                return revision;
            }
        }

        return -1;
    }

    public static void Require(long? expected)
    {
        if (expected == -1)
        {
            Fail.With(ErrorCodes.PreconditionFailed, "If-Match does not match the resource's current ETag: read it again and retry.");
        }
    }
}
