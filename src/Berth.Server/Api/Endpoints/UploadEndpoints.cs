using System.Globalization;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Uploads;
using Berth.Core.Registry;
using Berth.Server.Api.Auth;
using Berth.Server.Api.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Endpoints;

/// <summary>
/// Resumable blob uploads. POST opens a session (or, with <c>?digest=</c> and a body, stores a whole
/// blob at once); PATCH appends at <c>Upload-Offset</c>; GET/HEAD report the durable offset; PUT with
/// <c>?digest=</c> (and optionally a last chunk) verifies and stores the blob; DELETE cancels. POST .../parts gives
/// presigned URLs instead, for clients that write the parts straight into the object store.
/// </summary>
internal static class UploadEndpoints
{
    private const string OctetStream = "application/octet-stream";

    public static RouteGroupBuilder MapUploads(this RouteGroupBuilder api)
    {
        var uploads = api.MapGroup("/models/{namespace}/{model}/uploads").WithTags("Uploads").TransfersBytes();
        uploads.MapPost("/", Start).Needs(Permission.Write).WithName("StartUpload")
            .WithSummary("Open an upload session, or upload a whole blob with ?digest=&size= and a body (a Content-Length other than size is refused before the body is read)")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status507InsufficientStorage);
        uploads.MapMethods("/{id}", [HttpMethods.Get, HttpMethods.Head], Status).Needs(Permission.Write).WithName("GetUpload")
            .WithSummary("The upload's durable offset (resume from there)");
        uploads.MapPatch("/{id}", Append).Needs(Permission.Write).WithName("AppendUpload")
            .WithSummary("Append a chunk at Upload-Offset (or Content-Range start); an upload holds at most Registry:MaxBlobSize bytes (413)")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status507InsufficientStorage);
        uploads.MapPut("/{id}", Finish).Needs(Permission.Write).WithName("FinishUpload")
            .WithSummary("Verify ?digest= (and ?size=) and store the blob; the body may carry a last chunk").ProducesProblem(StatusCodes.Status507InsufficientStorage);
        uploads.MapPost("/{id}/parts", PlanDirect).Needs(Permission.Write).WithName("PlanDirectUpload")
            .WithSummary("Presigned URLs to write the upload's parts straight into the object store (servers with --blobs s3://…&upload=redirect)")
            .ProducesProblem(StatusCodes.Status409Conflict);
        uploads.MapDelete("/{id}", Cancel).Needs(Permission.Write).WithName("CancelUpload").WithSummary("Cancel an upload and discard its data");

        api.MapPost("/blobs/check", Check).Needs(Permission.Write).WithTags("Uploads").WithName("CheckBlobs")
            .WithSummary("Which of these digests a push by the caller would have to upload: all but those a ready version the caller can read already holds (server administrators: all but those stored)");
        return api;
    }

    private static async Task<IResult> Start(HttpContext context, UploadService uploads, string @namespace, string model, string? digest, long? size, CancellationToken cancellationToken)
    {
        var actor = context.GetActor();
        if (digest is not null)
        {
            RequireOctetStream(context.Request);
            AllowLargeBody(context);
            var blob = await uploads.PutAsync(actor, @namespace, model, digest, size, context.Request.Body, context.Request.ContentLength, cancellationToken);
            return TypedResults.Created($"/api/v1/blobs/{blob.Digest}", blob);
        }

        var session = await uploads.CreateAsync(actor, @namespace, model, cancellationToken);
        var info = ToInfo(session, 0);
        SetOffset(context.Response, 0);
        return TypedResults.Created(info.Location, info);
    }

    private static async Task<Ok<UploadInfo>> Status(HttpContext context, UploadService uploads, string @namespace, string model, string id, CancellationToken cancellationToken)
    {
        var (session, offset) = await uploads.GetAsync(@namespace, model, id, cancellationToken);
        SetOffset(context.Response, offset);
        return TypedResults.Ok(ToInfo(session, offset));
    }

    private static async Task<Ok<UploadInfo>> Append(HttpContext context, UploadService uploads, string @namespace, string model, string id, CancellationToken cancellationToken)
    {
        RequireOctetStream(context.Request);
        var offset = ReadOffset(context.Request);
        AllowLargeBody(context);
        var length = await uploads.AppendAsync(@namespace, model, id, offset, context.Request.Body, context.Request.ContentLength, cancellationToken);
        var (session, _) = await uploads.GetAsync(@namespace, model, id, cancellationToken);
        SetOffset(context.Response, length);
        return TypedResults.Ok(ToInfo(session, length));
    }

    private static async Task<Created<BlobInfo>> Finish(HttpContext context, UploadService uploads, string @namespace, string model, string id, string? digest, long? size, CancellationToken cancellationToken)
    {
        var hasBody = context.Request.ContentLength > 0 || (context.Request.ContentLength is null && context.Request.Headers.TransferEncoding.Count > 0);
        long? offset = null;
        if (hasBody)
        {
            RequireOctetStream(context.Request);
            offset = ReadOffset(context.Request);
            AllowLargeBody(context);
        }

        var blob = await uploads.FinishAsync(@namespace, model, id, digest, size, offset, hasBody ? context.Request.Body : null, context.Request.ContentLength, cancellationToken);
        return TypedResults.Created($"/api/v1/blobs/{blob.Digest}", blob);
    }

    private static async Task<Ok<DirectUploadPlan>> PlanDirect(UploadService uploads, string @namespace, string model, string id, DirectUploadRequest request, CancellationToken cancellationToken)
    {
        var target = await uploads.PlanDirectAsync(@namespace, model, id, request.Size, cancellationToken);
        return TypedResults.Ok(new DirectUploadPlan(
            target.PartSize,
            [.. target.Parts.Select(p => new DirectUploadPart(p.Number, p.Offset, p.Size, p.Url.AbsoluteUri, p.Uploaded))],
            target.ExpiresAt));
    }

    private static async Task<NoContent> Cancel(UploadService uploads, string @namespace, string model, string id, CancellationToken cancellationToken)
    {
        await uploads.CancelAsync(@namespace, model, id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<BlobCheckResponse>> Check(HttpContext context, VersionService versions, BlobCheckRequest request, CancellationToken cancellationToken)
    {
        if (request.Digests is null || request.Digests.Count > 10_000)
        {
            throw new RegistryException(ErrorCodes.InvalidRequest, "Send 'digests': a list of at most 10000 digests.");
        }

        foreach (var digest in request.Digests)
        {
            if (!Contracts.Naming.Digest.TryParse(digest, out _))
            {
                throw new RegistryException(ErrorCodes.InvalidDigest, $"'{Contracts.Naming.Names.Show(digest)}' is not a sha256 digest.");
            }
        }

        return TypedResults.Ok(new BlobCheckResponse(await versions.FindMissingBlobsAsync(context.GetActor(), request.Digests, cancellationToken)));
    }

    /// <summary>The chunk's start offset: Upload-Offset, or the start of Content-Range ('bytes 0-99/*' or '0-99'); null appends at the end.</summary>
    private static long? ReadOffset(HttpRequest request)
    {
        if (request.Headers[UploadService.OffsetHeader].ToString() is { Length: > 0 } header)
        {
            return long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
                ? offset
                : throw new RegistryException(ErrorCodes.InvalidRange, $"{UploadService.OffsetHeader} must be a non-negative integer.");
        }

        if (request.Headers.ContentRange.ToString() is { Length: > 0 } range)
        {
            var text = range.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase) ? range[6..] : range;
            var dash = text.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            {
                return start;
            }

            throw new RegistryException(ErrorCodes.InvalidRange, "Content-Range must look like 'bytes <start>-<end>/*'.");
        }

        return null;
    }

    private static void RequireOctetStream(HttpRequest request)
    {
        var type = request.ContentType;
        if (string.IsNullOrEmpty(type) ||
            (MediaTypeHeaderValue.TryParse(type, out var parsed) && parsed.MediaType.Equals(OctetStream, StringComparison.OrdinalIgnoreCase)))
        {
            return;
        }

        throw new RegistryException(ErrorCodes.UnsupportedMediaType, $"Upload bodies must be sent as '{OctetStream}', not '{type}'.");
    }

    /// <summary>Blob bodies stream through without the JSON size limit (the blob size limit applies).</summary>
    private static void AllowLargeBody(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
    }

    private static void SetOffset(HttpResponse response, long offset)
    {
        response.Headers[UploadService.OffsetHeader] = offset.ToString(CultureInfo.InvariantCulture);
        if (offset > 0)
        {
            response.Headers[HeaderNames.Range] = $"0-{(offset - 1).ToString(CultureInfo.InvariantCulture)}";
        }

        response.Headers.CacheControl = "no-store";
    }

    private static UploadInfo ToInfo(UploadSession session, long offset) => new(
        session.Id,
        offset,
        DtoMapper.Utc(session.ExpiresAt),
        $"/api/v1/models/{session.Namespace}/{session.Model}/uploads/{session.Id}");
}
