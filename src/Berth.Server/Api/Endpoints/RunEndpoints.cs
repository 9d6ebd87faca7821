using System.Buffers;
using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Json;
using Berth.Core.Auth;
using Berth.Core.Blobs;
using Berth.Core.Common;
using Berth.Core.Configuration;
using Berth.Core.Diagnostics;
using Berth.Core.Errors;
using Berth.Core.Runs;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Http;
using Berth.Server.Api.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Berth.Server.Api.Endpoints;

/// <summary>Training runs of a model: start, read, list, edit, heartbeat, end, delete; metric batches, series and comparisons; run files and registering a run as a version (docs/runs.md).</summary>
internal static class RunEndpoints
{
    public static RouteGroupBuilder MapRuns(this RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/models/{namespace}/{model}/runs").WithTags("Runs");
        runs.MapPost("/", Create).Needs(Permission.Write, createsNamespace: true).Idempotent().WithName("CreateRun")
            .WithSummary("Start a run of a model (the namespace and model are created on first use, as by a push); answers the run with its id");
        runs.MapGet("/", List).Needs(Permission.Read).WithName("ListRuns")
            .WithSummary("Runs of a model, newest first: filter with the filter language (name, status, created, metrics.<key> (last value), params.<key>, tags.<key>); sort by created or metrics.<key> ('-' for descending); keyset-paged");
        runs.MapGet("/compare", Compare).Needs(Permission.Read).WithName("CompareRuns")
            .WithSummary("Up to 20 runs (runs=id,id,…) on up to 10 metrics (keys=a,b): every series over one range cut into the same buckets, aligned on step (align=step, the default) or on the time since each run's start (align=time, from/to in milliseconds), or raw points when none has more than buckets");
        runs.MapGet("/{id}", Get).Needs(Permission.Read).WithName("GetRun").WithSummary("A run with its params, tags, lineage and metric summaries");
        runs.MapPatch("/{id}", Update).Needs(Permission.Write).WithName("UpdateRun")
            .WithSummary("Change a run's name, note and tags (If-Match supported)");
        runs.MapDelete("/{id}", Delete).Needs(Permission.Admin).WithName("DeleteRun")
            .WithSummary("Soft-delete a run: gone from reads and lists");
        runs.MapPost("/{id}/heartbeat", Heartbeat).Needs(Permission.Write).WithName("RunHeartbeat")
            .WithSummary("A sign of life of a running run (204); a run silent for Runs:HeartbeatTimeout becomes crashed; 409 run_ended once it ended")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status409Conflict);
        runs.MapPost("/{id}/finish", Finish).Needs(Permission.Write).WithName("FinishRun")
            .WithSummary("End a running run as finished (default), failed or killed; 409 run_ended when it already ended otherwise")
            .ProducesProblem(StatusCodes.Status409Conflict);
        runs.MapPost("/{id}/metrics", Log).Needs(Permission.Write).WithName("LogMetrics")
            .WithSummary("Add a batch of metric points (key, step, value, time) to a running run, all or nothing; the same batchId is stored once. Over Runs:MaxBatchPoints points or Runs:MaxBatchBytes bytes: 413 batch_too_large; a bad key: 400 invalid_name; an ended run: 409 run_ended")
            .Accepts<MetricBatch>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        runs.MapGet("/{id}/series", Series).Needs(Permission.Read).WithName("ReadMetric")
            .WithSummary("One metric of a run (key=…) over [from, to], downsampled to at most buckets (default 1000) min/max buckets, or its points when there are no more than that");
        runs.MapGet("/{id}/points", Points).Needs(Permission.Read).WithName("ReadMetricPoints")
            .WithSummary("The raw points of one metric of a run (key=…) in step order, keyset-paged (limit up to 10000)");
        runs.MapPost("/{id}/files", AttachFiles).Needs(Permission.Write).WithName("AttachRunFiles")
            .WithSummary("Attach uploaded blobs to a run by path, all or none (running or ended runs; a path attached again is replaced); 409 blobs_missing lists the digests that are not there for the caller; answers every file of the run")
            .ProducesProblem(StatusCodes.Status409Conflict);
        runs.MapGet("/{id}/files", ListFiles).Needs(Permission.Read).WithName("ListRunFiles")
            .WithSummary("The files of a run in path order (path, size, digest, time), keyset-paged");
        runs.MapMethods("/{id}/files/{**path}", [HttpMethods.Get, HttpMethods.Head], DownloadFile).Needs(Permission.Read).TransfersBytes().WithName("DownloadRunFile")
            .WithSummary("Download one file of a run (Range, ETag and digest headers), always as an application/octet-stream attachment")
            .Produces(StatusCodes.Status200OK, contentType: UserContent.ContentType).Produces(StatusCodes.Status206PartialContent, contentType: UserContent.ContentType)
            .ProducesProblem(StatusCodes.Status416RangeNotSatisfiable);
        runs.MapPost("/{id}/register", Register).Needs(Permission.Write).Idempotent().WithName("RegisterRun")
            .WithSummary("Register a run as a ready version of its model from its stored files (all, or those under path, with the prefix stripped), without uploading anything: lineage names the run; params and final metrics come from the run unless given. 400 empty_selection when no file is selected; quotas, protected aliases and naming rules as for a push")
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<Ok<RunFileList>> AttachFiles(HttpContext context, RunFileService service, string @namespace, string model, string id, AttachRunFilesRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.AttachAsync(context.GetActor(), @namespace, model, id, request, cancellationToken));

    private static async Task<Ok<Page<RunFileInfo>>> ListFiles(RunFileService service, string @namespace, string model, string id, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.ListAsync(@namespace, model, id, new Paging(limit, cursor), cancellationToken));

    private static async Task<IResult> DownloadFile(HttpContext context, RunFileService service, IBlobStore store, BerthMeter meter, string @namespace, string model, string id, string path, CancellationToken cancellationToken)
    {
        path = EncodedPath.Decode(context, path);
        var file = await service.GetFileAsync(@namespace, model, id, path, cancellationToken);
        return await FileDownload.ServeAsync(context, store, meter, file, cancellationToken);
    }

    private static async Task<Created<VersionInfo>> Register(HttpContext context, RunFileService service, string @namespace, string model, string id, RegisterRunRequest request, CancellationToken cancellationToken)
    {
        var version = await service.RegisterAsync(context.GetActor(), @namespace, model, id, request, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('v', version.Number, version.Revision);
        return TypedResults.Created($"/api/v1/models/{version.Namespace}/{version.Model}/versions/{version.Number}", version);
    }

    private static async Task<Created<RunInfo>> Create(HttpContext context, RunService service, string @namespace, string model, CreateRunRequest request, CancellationToken cancellationToken)
    {
        var run = await service.CreateAsync(context.GetActor(), @namespace, model, request, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('r', 0, run.Revision);
        return TypedResults.Created($"/api/v1/models/{run.Namespace}/{run.Model}/runs/{run.Id}", run);
    }

    private static async Task<Ok<Page<RunInfo>>> List(RunService service, string @namespace, string model, string? filter, string? sort, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.ListAsync(@namespace, model, filter, sort, new Paging(limit, cursor), cancellationToken));

    private static async Task<Ok<RunInfo>> Get(HttpResponse response, RunService service, string @namespace, string model, string id, CancellationToken cancellationToken)
    {
        var run = await service.GetAsync(@namespace, model, id, cancellationToken);
        response.Headers.ETag = Revision.ETag('r', 0, run.Revision);
        return TypedResults.Ok(run);
    }

    private static async Task<Ok<RunInfo>> Update(HttpContext context, RunService service, string @namespace, string model, string id, UpdateRunRequest request, CancellationToken cancellationToken)
    {
        var expected = context.Request.Headers.IfMatch.Count == 0 ? null : Revision.FromIfMatch(context.Request, 'r', 0);
        if (context.Request.Headers.IfMatch.Count > 0)
        {
            Revision.Require(expected);
        }

        var run = await service.UpdateAsync(@namespace, model, id, request, expected, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('r', 0, run.Revision);
        return TypedResults.Ok(run);
    }

    private static async Task<NoContent> Delete(RunService service, string @namespace, string model, string id, CancellationToken cancellationToken)
    {
        await service.DeleteAsync(@namespace, model, id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> Heartbeat(RunService service, string @namespace, string model, string id, CancellationToken cancellationToken)
    {
        await service.HeartbeatAsync(@namespace, model, id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<RunInfo>> Finish(RunService service, string @namespace, string model, string id, FinishRunRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.FinishAsync(@namespace, model, id, request, cancellationToken));

    /// <summary>
    /// The body is read here, not bound: a batch over Runs:MaxBatchBytes is refused as batch_too_large (naming the
    /// limit) before it is read, or as soon as it passes the limit when its length is not announced.
    /// </summary>
    private static async Task<Ok<MetricBatchResult>> Log(HttpContext context, MetricStore store, IOptions<RunOptions> options, string @namespace, string model, string id, CancellationToken cancellationToken)
    {
        var max = options.Value.MaxBatchBytes;
        var request = context.Request;
        if (request.ContentLength > max)
        {
            throw TooLarge(request.ContentLength.Value, max);
        }

        if (!request.HasJsonContentType())
        {
            throw new RegistryException(ErrorCodes.UnsupportedMediaType, "Metric batches are sent as 'Content-Type: application/json'.");
        }

        using var body = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (body.Length + read > max)
                {
                    throw TooLarge(null, max);
                }

                body.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        var batch = JsonSerializer.Deserialize(body.GetBuffer().AsSpan(0, (int)body.Length), BerthJsonContext.Default.MetricBatch)
            ?? throw new RegistryException(ErrorCodes.InvalidJson, "The body must be a metric batch object, not null.");
        return TypedResults.Ok(await store.IngestAsync(@namespace, model, id, batch, cancellationToken));
    }

    private static RegistryException TooLarge(long? length, int max) =>
        new(ErrorCodes.BatchTooLarge,
            $"The batch body is {(length is { } l ? $"{l} bytes" : "longer than the limit")}; the limit is {max} bytes per batch (Runs:MaxBatchBytes). Send it as several batches.",
            new Dictionary<string, object?> { ["limit"] = "Runs:MaxBatchBytes", ["max"] = max });

    private static async Task<Ok<SeriesSet>> Series(MetricStore store, string @namespace, string model, string id, string key, int? buckets, long? from, long? to, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ReadAsync(@namespace, model, id, key, buckets, from, to, cancellationToken));

    private static async Task<Ok<Page<SeriesPoint>>> Points(MetricStore store, string @namespace, string model, string id, string key, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ReadRawAsync(@namespace, model, id, key, limit, cursor, cancellationToken));

    private static async Task<Ok<SeriesSet>> Compare(MetricStore store, string @namespace, string model, string runs, string keys, int? buckets, long? from, long? to, string? align, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.CompareAsync(@namespace, model, Split(runs), Split(keys), buckets, from, to, align, cancellationToken));

    private static List<string> Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
