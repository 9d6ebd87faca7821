using Berth.Contracts.Naming;
using Microsoft.AspNetCore.Http;

namespace Berth.Server.Api.Http;

/// <summary>Headers that let a client verify what it downloaded without trusting the transport.</summary>
internal static class DigestHeaders
{
    /// <summary>The digest of the whole file in Berth's form (<c>sha256:&lt;hex&gt;</c>).</summary>
    public const string BerthDigest = "Berth-Digest";

    /// <summary>RFC 9530 representation digest (<c>sha-256=:&lt;base64&gt;:</c>).</summary>
    public const string ReprDigest = "Repr-Digest";

    public static void Set(HttpResponse response, Digest digest)
    {
        response.Headers[BerthDigest] = digest.ToString();
        response.Headers[ReprDigest] = $"sha-256=:{Convert.ToBase64String(Convert.FromHexString(digest.Hex))}:";
    }
}
