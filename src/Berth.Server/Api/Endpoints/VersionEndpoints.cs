using System.Formats.Tar;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Blobs;
using Berth.Core.Common;
using Berth.Core.Diagnostics;
using Berth.Core.Governance;
using Berth.Core.Registry;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Http;
using Berth.Server.Api.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Endpoints;

/// <summary>Versions: push (declare + commit), read, edit, delete, files, manifest and archive.</summary>
internal static class VersionEndpoints
{
    public static RouteGroupBuilder MapVersions(this RouteGroupBuilder api)
    {
        var versions = api.MapGroup("/models/{namespace}/{model}/versions").WithTags("Versions");
        versions.MapGet("/", List).Needs(Permission.Read).WithName("ListVersions")
            .WithSummary("Versions of a model, newest first (ready ones; state=all for every state)");
        versions.MapPost("/", Create).Needs(Permission.Write, createsNamespace: true).Idempotent().WithName("CreateVersion")
            .WithSummary("Declare a version: answers with the pending version and the blobs the caller must upload (all but those a ready version it can read already holds); 400 for paths that would not materialise alike on Linux, macOS and Windows, 409 quota_exceeded over the namespace's quota")
            .ProducesProblem(StatusCodes.Status409Conflict);
        versions.MapGet("/{selector}", Get).Needs(Permission.Read).WithName("GetVersion")
            .WithSummary("A version by number, semantic version, alias, stage, 'latest' or manifest digest")
            .WithDescription("By manifest digest (sha256:<hex>) the oldest ready version with that content answers, and its sameContent lists the numbers of the other ready versions with the same content (oldest first, at most 100); otherwise sameContent is null.");
        versions.MapPatch("/{selector}", Update).Needs(Permission.Write).WithName("UpdateVersion")
            .WithSummary("Change a version's description and tags (If-Match supported)");
        versions.MapDelete("/{selector}", Delete).Needs(Permission.Admin).WithName("DeleteVersion")
            .WithSummary("Soft-delete a version: gone from pulls and listings, kept in history");
        versions.MapPost("/{selector}/commit", Commit).Needs(Permission.Write).WithName("CommitVersion")
            .WithSummary("Make a pending version ready once every blob it lists is stored and was present for its declarer or uploaded into its model (409 blobs_missing otherwise)").ProducesProblem(StatusCodes.Status409Conflict);
        versions.MapPut("/{selector}/stage", ChangeStage).Needs(Permission.Write).WithName("ChangeStage")
            .WithSummary("Move a version to a stage, with a comment (200); a protected stage opens a request instead (202); a failed gate is 409 gate_failed")
            .Produces<TransitionResult>(StatusCodes.Status200OK).Produces<TransitionResult>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);
        versions.MapPost("/{selector}/evaluations", Evaluate).Needs(Permission.Write).Idempotent().WithName("EvaluateVersion")
            .WithSummary("Add metrics measured after the push (an evaluation: metrics, dataset, run of the model, note) to a ready version; they become its effective metrics for search, sorting and stage gates, the pushed values are kept (evaluatedMetrics). 409 version_not_ready, 410 version_deleted, 404 run_not_found")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status410Gone);
        versions.MapGet("/{selector}/evaluations", Evaluations).Needs(Permission.Read).WithName("ListEvaluations")
            .WithSummary("The evaluations of a version, newest first, keyset-paged");
        versions.MapGet("/{selector}/manifest", Manifest).Needs(Permission.Read).WithName("GetManifest")
            .WithSummary("The canonical manifest (files, sizes, digests); its SHA-256 is the version's digest");
        versions.MapGet("/{selector}/files", ListFiles).Needs(Permission.Read).WithName("ListFiles").WithSummary("The files of a version");
        versions.MapMethods("/{selector}/files/{**path}", [HttpMethods.Get, HttpMethods.Head], Download).Needs(Permission.Read).TransfersBytes().WithName("DownloadFile")
            .WithSummary("Download one file (Range, ETag and digest headers), always as an application/octet-stream attachment")
            .Produces(StatusCodes.Status200OK, contentType: UserContent.ContentType).Produces(StatusCodes.Status206PartialContent, contentType: UserContent.ContentType)
            .ProducesProblem(StatusCodes.Status416RangeNotSatisfiable);
        versions.MapGet("/{selector}/archive", Archive).Needs(Permission.Read).TransfersBytes().WithName("DownloadArchive")
            .WithSummary("The whole version as one tar stream (an application/octet-stream attachment)")
            .Produces(StatusCodes.Status200OK, contentType: UserContent.ContentType);
        return api;
    }

    private static async Task<Ok<Page<VersionInfo>>> List(VersionService service, string @namespace, string model, string? state, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        if (state is not (null or "ready" or "all"))
        {
            throw new Core.Errors.RegistryException(Contracts.Errors.ErrorCodes.InvalidRequest, "state must be 'ready' (default) or 'all'.");
        }

        return TypedResults.Ok(await service.ListAsync(@namespace, model, state == "all", new Paging(limit, cursor), cancellationToken));
    }

    private static async Task<Created<CreateVersionResponse>> Create(HttpContext context, VersionService service, string @namespace, string model, CreateVersionRequest request, CancellationToken cancellationToken)
    {
        var response = await service.CreateAsync(context.GetActor(), @namespace, model, request, cancellationToken);
        var version = response.Version;
        context.Response.Headers.ETag = Revision.ETag('v', version.Number, version.Revision);
        return TypedResults.Created($"/api/v1/models/{version.Namespace}/{version.Model}/versions/{version.Number}", response);
    }

    private static async Task<Created<EvaluationInfo>> Evaluate(HttpContext context, EvaluationService service, string @namespace, string model, string selector, CreateEvaluationRequest request, CancellationToken cancellationToken)
    {
        var evaluation = await service.EvaluateAsync(context.GetActor(), @namespace, model, selector, request, cancellationToken);
        return TypedResults.Created($"/api/v1/models/{evaluation.Namespace}/{evaluation.Model}/versions/{evaluation.Version}/evaluations", evaluation);
    }

    private static async Task<Ok<Page<EvaluationInfo>>> Evaluations(EvaluationService service, string @namespace, string model, string selector, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.ListAsync(@namespace, model, selector, new Paging(limit, cursor), cancellationToken));

    private static async Task<Ok<VersionInfo>> Get(HttpContext context, VersionService service, LineageQueries lineage, string @namespace, string model, string selector, bool? files, CancellationToken cancellationToken)
    {
        var response = context.Response;
        var version = await service.GetAsync(@namespace, model, selector, files == true, cancellationToken);
        var children = await lineage.ChildrenAsync(context.GetActor(), version.Namespace, version.Model, version.Number, VersionInfo.MaxChildren, cancellationToken);
        version = version with { Children = children };
        response.Headers.ETag = Revision.ETag('v', version.Number, version.Revision);
        return TypedResults.Ok(version);
    }

    private static async Task<Ok<VersionInfo>> Update(HttpContext context, VersionService service, string @namespace, string model, string selector, UpdateVersionRequest request, CancellationToken cancellationToken)
    {
        var (pinned, expected) = await PinAsync(context, service, @namespace, model, selector, cancellationToken);
        var version = await service.UpdateAsync(@namespace, model, pinned, request, expected, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('v', version.Number, version.Revision);
        return TypedResults.Ok(version);
    }

    private static async Task<Ok<VersionInfo>> Delete(HttpContext context, VersionService service, string @namespace, string model, string selector, CancellationToken cancellationToken)
    {
        var (pinned, expected) = await PinAsync(context, service, @namespace, model, selector, cancellationToken, allowAnyState: true);
        return TypedResults.Ok(await service.DeleteAsync(context.GetActor(), @namespace, model, pinned, expected, cancellationToken));
    }

    private static async Task<Ok<VersionInfo>> Commit(HttpContext context, VersionService service, string @namespace, string model, string selector, CancellationToken cancellationToken)
    {
        var version = await service.CommitAsync(context.GetActor(), @namespace, model, selector, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('v', version.Number, version.Revision);
        return TypedResults.Ok(version);
    }

    /// <summary>200 when the stage changed (or already was the target), 202 when a protected stage turned it into a request.</summary>
    private static async Task<IResult> ChangeStage(HttpContext context, VersionService service, LifecycleService lifecycle, RequestService requests, string @namespace, string model, string selector, StageChangeRequest request, CancellationToken cancellationToken)
    {
        var (pinned, expected) = await PinAsync(context, service, @namespace, model, selector, cancellationToken);
        var actor = context.GetActor();
        var outcome = await lifecycle.ChangeStageAsync(actor, @namespace, model, pinned, request, expected, cancellationToken);
        var version = await service.GetByIdAsync(outcome.VersionId, withFiles: false, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('v', version.Number, version.Revision);
        var opened = outcome.RequestId is { } id ? await requests.GetAsync(actor, id, cancellationToken) : null;
        var result = new TransitionResult(outcome.Kind, version, null, opened);
        return opened is null ? TypedResults.Ok(result) : TypedResults.Accepted($"/api/v1/requests/{opened.Id}", result);
    }

    private static async Task<IResult> Manifest(HttpResponse response, VersionService service, string @namespace, string model, string selector, CancellationToken cancellationToken)
    {
        var (manifest, digest, _) = await service.GetManifestAsync(@namespace, model, selector, cancellationToken);
        DigestHeaders.Set(response, Digest.Parse(digest));
        return Results.Bytes(manifest, VersionManifest.MediaType, entityTag: new EntityTagHeaderValue($"\"{digest}\""));
    }

    private static async Task<Ok<Page<FileEntry>>> ListFiles(VersionService service, string @namespace, string model, string selector, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.ListFilesAsync(@namespace, model, selector, new Paging(limit, cursor), cancellationToken));

    private static async Task<IResult> Download(HttpContext context, VersionService service, IBlobStore store, BerthMeter meter, string @namespace, string model, string selector, string path, CancellationToken cancellationToken)
    {
        path = EncodedPath.Decode(context, path);
        var (file, _) = await service.GetFileAsync(@namespace, model, selector, path, cancellationToken);
        return await FileDownload.ServeAsync(context, store, meter, file, cancellationToken);
    }

    private static async Task Archive(HttpContext context, VersionService service, IBlobStore store, BerthMeter meter, string @namespace, string model, string selector, CancellationToken cancellationToken)
    {
        var (number, created, files) = await service.GetAllFilesAsync(@namespace, model, selector, cancellationToken);
        context.Response.ContentType = UserContent.ContentType;
        UserContent.SetAttachment(context.Response, $"{model}-{number}.tar", UserContent.TarMediaType);
        await using var tar = new TarWriter(context.Response.Body, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var file in files)
        {
            await using var data = new CountingReadStream(await store.OpenReadAsync(Digest.Parse(file.Digest), 0, cancellationToken), meter);
            var entry = new PaxTarEntry(TarEntryType.RegularFile, file.Path)
            {
                DataStream = data,
                ModificationTime = created,
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            await tar.WriteEntryAsync(entry, cancellationToken);
        }
    }

    /// <summary>
    /// Resolves a (possibly moving) selector to a fixed version number and reads If-Match for it, so
    /// that the update applies to exactly the version the client saw.
    /// </summary>
    private static async Task<(string Selector, long? Expected)> PinAsync(HttpContext context, VersionService service, string ns, string model, string selector, CancellationToken cancellationToken, bool allowAnyState = false)
    {
        if (context.Request.Headers.IfMatch.Count == 0)
        {
            return (selector, null);
        }

        var (_, number) = await service.ResolveNumberAsync(ns, model, selector, allowAnyState, cancellationToken);
        var expected = Revision.FromIfMatch(context.Request, 'v', number);
        Revision.Require(expected);
        return (number.ToString(System.Globalization.CultureInfo.InvariantCulture), expected);
    }
}
