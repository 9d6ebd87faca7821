using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Http;

/// <summary>
/// How the bytes of a version (files and archives) are served: written by users, so never as a type a browser
/// renders. Always <c>application/octet-stream</c>, as an attachment, in a sandbox with no privileges; the media type
/// the writer declared is only information (<c>Berth-Media-Type</c>, and in the version's JSON and manifest).
/// </summary>
internal static class UserContent
{
    public const string ContentType = "application/octet-stream";

    /// <summary>The media type the writer declared for the file (or Berth's for an archive).</summary>
    public const string MediaTypeHeader = "Berth-Media-Type";

    public const string TarMediaType = "application/x-tar";

    /// <summary>No scripts, forms, plugins or same-origin access, even if a browser were made to render the bytes.</summary>
    public const string Policy = "default-src 'none'; sandbox";

    public static void SetAttachment(HttpResponse response, string fileName, string? mediaType)
    {
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(fileName);
        response.Headers.ContentDisposition = disposition.ToString();
        response.Headers.ContentSecurityPolicy = Policy;
        if (mediaType is not null)
        {
            response.Headers[MediaTypeHeader] = mediaType;
        }
    }
}
