using System.Globalization;
using Berth.Core.Oci;
using Berth.Core.Uploads;

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Oci;

internal static partial class OciEndpoints
{
    /// <summary>
    /// POST …/blobs/uploads/: with <c>?mount=&amp;from=</c> links a blob the caller may read (201) or falls back to an
    /// upload; with <c>?digest=</c> stores the body as one blob (201); otherwise opens an upload session (202).
    /// </summary>
    private static async Task StartUploadAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        var actor = await AuthorizeAsync(context, repository, OciGrants.Push);
        var services = context.RequestServices;
        var registry = services.GetRequiredService<OciRegistry>();
        var query = context.Request.Query;
        var response = context.Response;
        if (query["mount"].ToString() is { Length: > 0 } mount)
        {
            var from = query["from"].ToString() is { Length: > 0 } f ? f : null;
            if (await registry.MountAsync(actor, repository, mount, from, context.RequestAborted) is { } mounted)
            {
                BlobCreated(response, repository, mounted.Digest.ToString());
                return;
            }
        }

        var model = await registry.EnsureRepositoryAsync(actor, repository, context.RequestAborted);
        var uploads = services.GetRequiredService<UploadService>();
        if (query["digest"].ToString() is { Length: > 0 } digest && !query.ContainsKey("mount"))
        {
            AllowLargeBody(context);
            var blob = await uploads.PutAsync(actor, repository.Namespace, repository.Model, digest, null, context.Request.Body, context.Request.ContentLength, context.RequestAborted);
            BlobCreated(response, repository, blob.Digest);
            return;
        }

        _ = model;
        var session = await uploads.CreateAsync(actor, repository.Namespace, repository.Model, context.RequestAborted);
        UploadAccepted(response, repository, session.Id, 0, StatusCodes.Status202Accepted);
    }

    /// <summary>GET of an upload's location: 204 with <c>Range: 0-&lt;last byte&gt;</c>, where a client resumes.</summary>
    private static async Task UploadStatusAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        await AuthorizeAsync(context, repository, OciGrants.Push);
        var (session, offset) = await context.RequestServices.GetRequiredService<UploadService>()
            .GetAsync(repository.Namespace, repository.Model, route.Argument, context.RequestAborted);
        UploadAccepted(context.Response, repository, session.Id, offset, StatusCodes.Status204NoContent);
    }

    /// <summary>PATCH: appends a chunk, at <c>Content-Range</c>'s start when given (416 when that is not the upload's end).</summary>
    private static async Task AppendAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        await AuthorizeAsync(context, repository, OciGrants.Push);
        var uploads = context.RequestServices.GetRequiredService<UploadService>();
        var offset = ChunkStart(context.Request);
        AllowLargeBody(context);
        var length = await OutOfOrderAsRangeError(context, repository, route.Argument, () =>
            uploads.AppendAsync(repository.Namespace, repository.Model, route.Argument, offset, context.Request.Body, context.Request.ContentLength, context.RequestAborted));
        UploadAccepted(context.Response, repository, route.Argument, length, StatusCodes.Status202Accepted);
    }

    /// <summary>PUT <c>?digest=</c>: the last chunk (optional), then the digest is verified and the blob stored (201).</summary>
    private static async Task FinishAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        await AuthorizeAsync(context, repository, OciGrants.Push);
        var digest = context.Request.Query["digest"].ToString();
        if (digest.Length == 0)
        {
            throw new OciException(OciError.DigestInvalid, "Closing an upload needs ?digest=sha256:<hex> of the whole blob.");
        }

        var request = context.Request;
        var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        var offset = hasBody ? ChunkStart(request) : null;
        if (hasBody)
        {
            AllowLargeBody(context);
        }

        var uploads = context.RequestServices.GetRequiredService<UploadService>();
        var blob = await OutOfOrderAsRangeError(context, repository, route.Argument, () =>
            uploads.FinishAsync(repository.Namespace, repository.Model, route.Argument, digest, null, offset, hasBody ? request.Body : null, request.ContentLength, context.RequestAborted));
        BlobCreated(context.Response, repository, blob.Digest);
    }

    private static async Task CancelAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        await AuthorizeAsync(context, repository, OciGrants.Push);
        await context.RequestServices.GetRequiredService<UploadService>().CancelAsync(repository.Namespace, repository.Model, route.Argument, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>A chunk that does not start at the upload's end is 416 with the upload's <c>Range</c>, as the spec asks.</summary>
    private static async Task<T> OutOfOrderAsRangeError<T>(HttpContext context, OciRepositoryName repository, string id, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Core.Errors.RegistryException e) when (e.Error == Contracts.Errors.ErrorCodes.UploadOffsetMismatch)
        {
            var offset = e.Extensions.TryGetValue("offset", out var value) && value is long l ? l : 0;
            var error = new OciException(OciError.BlobUploadInvalid, e.Message, StatusCodes.Status416RangeNotSatisfiable);
            error.Headers["Location"] = UploadLocation(repository, id);
            error.Headers["Range"] = RangeOf(offset);
            error.Headers[UploadUuidHeader] = id;
            throw error;
        }
    }

    /// <summary>The start of <c>Content-Range: &lt;start&gt;-&lt;end&gt;</c> (also <c>bytes start-end/total</c>); null: append at the end.</summary>
    private static long? ChunkStart(HttpRequest request)
    {
        var text = request.Headers.ContentRange.ToString();
        if (text.Length == 0)
        {
            return null;
        }

        var range = text.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase) ? text[6..] : text;
        var slash = range.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            range = range[..slash];
        }

        var dash = range.IndexOf('-', StringComparison.Ordinal);
        if (dash > 0 && long.TryParse(range.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            && long.TryParse(range.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var end) && end >= start)
        {
            if (request.ContentLength is { } length && length != end - start + 1)
            {
                throw new OciException(OciError.BlobUploadInvalid, $"Content-Range {text} spans {end - start + 1} bytes but the body has {length}.", StatusCodes.Status416RangeNotSatisfiable);
            }

            return start;
        }

        throw new OciException(OciError.BlobUploadInvalid, $"Content-Range must be '<start>-<end>'; got '{Contracts.Naming.Names.Show(text)}'.", StatusCodes.Status416RangeNotSatisfiable);
    }

    private static void BlobCreated(HttpResponse response, OciRepositoryName repository, string digest)
    {
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = $"/v2/{repository}/blobs/{digest}";
        response.Headers[OciResponses.DigestHeader] = digest;
    }

    private static void UploadAccepted(HttpResponse response, OciRepositoryName repository, string id, long offset, int status)
    {
        response.StatusCode = status;
        response.Headers.Location = UploadLocation(repository, id);
        response.Headers[HeaderNames.Range] = RangeOf(offset);
        response.Headers[UploadUuidHeader] = id;
        response.Headers.CacheControl = "no-store";
        response.ContentLength = 0;
    }

    private static string UploadLocation(OciRepositoryName repository, string id) => $"/v2/{repository}/blobs/uploads/{id}";

    /// <summary>The bytes an upload holds, as the spec writes them: <c>0-&lt;last&gt;</c> (<c>0-0</c> when it holds none yet, as Distribution does).</summary>
    private static string RangeOf(long offset) => $"0-{Math.Max(0, offset - 1).ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Blob bodies stream without the JSON size limit (the blob size limit applies).</summary>
    private static void AllowLargeBody(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
    }
}
