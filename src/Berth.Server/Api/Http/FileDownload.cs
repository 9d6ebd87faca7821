using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;
using Berth.Core.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Http;

/// <summary>
/// Serves one stored file (of a version or a run): digest headers, an attachment of type application/octet-stream,
/// then a presigned redirect (GET, when the store offers one) or the bytes with Range and a strong digest ETag.
/// </summary>
internal static class FileDownload
{
    /// <summary>How long a presigned download URL stays valid (a broken download asks Berth again and gets a new one).</summary>
    private static readonly TimeSpan DirectDownloadLifetime = TimeSpan.FromMinutes(5);

    public static async Task<IResult> ServeAsync(HttpContext context, IBlobStore store, BerthMeter meter, FileEntry file, CancellationToken cancellationToken)
    {
        var digest = Digest.Parse(file.Digest);
        DigestHeaders.Set(context.Response, digest);
        UserContent.SetAttachment(context.Response, file.Path[(file.Path.LastIndexOf('/') + 1)..], file.MediaType);
        // A presigned URL is signed for GET only: HEAD is answered here.
        if (HttpMethods.IsGet(context.Request.Method) &&
            await store.GetDownloadUriAsync(digest, DirectDownloadLifetime, cancellationToken) is { } direct)
        {
            // 307: the client repeats the GET (with its Range) at the store, and still checks the digest header.
            context.Response.Headers.CacheControl = "no-store";
            return Results.Redirect(direct.ToString(), permanent: false, preserveMethod: true);
        }

        var entityTag = $"\"{file.Digest}\"";
        Ranges.RejectUnsatisfiable(context.Request, file.Size, entityTag);
        var stream = await store.OpenReadAsync(digest, 0, cancellationToken);
        return Results.Stream(
            new CountingReadStream(stream, meter),
            UserContent.ContentType,
            entityTag: new EntityTagHeaderValue(entityTag),
            enableRangeProcessing: true);
    }
}
