using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Json;
using Berth.Core.Blobs;
using Berth.Core.Errors;
using Berth.Core.Gc;
using Berth.Core.Scrub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Garbage collection (<c>berth gc</c>) and the scrub (<c>berth fsck</c>), run by server administrators.</summary>
internal static class GcEndpoints
{
    private static readonly byte[] Newline = "\n"u8.ToArray();

    public static RouteGroupBuilder MapGc(this RouteGroupBuilder api)
    {
        var gc = api.MapGroup("/gc").WithTags("Storage").NeedsServerAdmin();
        gc.MapPost("/", RunGc).WithName("RunGc")
            .WithSummary("Apply retention, purge versions deleted longer ago than the purge delay, delete unreferenced blobs past the grace period and expired upload sessions; with dryRun=true only report what would go");

        var fsck = api.MapGroup("/fsck").WithTags("Storage").NeedsServerAdmin();
        fsck.MapPost("/", RunFsck).WithName("RunFsck")
            .WithSummary("Scrub the blob store (throttled): re-hash every blob and check database and store against each other; with quarantine=true, " +
                "quarantine missing or corrupt blobs so their versions fail with blob_corrupt. Streams JSON lines (problem, progress, then report; error if it stops)")
            .Produces<FsckLine>(StatusCodes.Status200OK, "application/x-ndjson")
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<Ok<GcReport>> RunGc(GarbageCollector collector, bool? dryRun, CancellationToken cancellationToken) =>
        TypedResults.Ok(await collector.RunAsync(dryRun ?? false, cancellationToken));

    /// <summary>
    /// Claims the scrub first (409 <c>fsck_running</c> as a problem answer), then streams. A failure once the stream
    /// has started becomes its last line, of type <c>error</c>.
    /// </summary>
    private static async Task RunFsck(HttpContext context, BlobScrubber scrubber, bool? quarantine, CancellationToken cancellationToken)
    {
        await using var lease = await scrubber.ClaimAsync(cancellationToken);
        var response = context.Response;
        response.ContentType = "application/x-ndjson";
        response.Headers.CacheControl = "no-store";
        await response.Body.FlushAsync(cancellationToken);
        FsckLine? failure = null;
        try
        {
            await foreach (var line in scrubber.RunAsync(quarantine ?? false, lease, cancellationToken))
            {
                await WriteAsync(response, line, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (lease.IsLost && !cancellationToken.IsCancellationRequested)
        {
            failure = Error(ErrorCodes.Unavailable, "The scrub stopped: this server could not renew its hold on it in time. Run it again.");
        }
        catch (RegistryException e)
        {
            failure = Error(e.Error, e.Message);
        }
        catch (BlobStoreException e)
        {
            failure = Error(ErrorCodes.StorageFailed, $"The scrub stopped: the blob store failed: {e.Message}");
        }

        if (failure is not null)
        {
            await WriteAsync(response, failure, cancellationToken);
        }
    }

    private static FsckLine Error(ErrorCode code, string detail) => new(FsckLine.ErrorType, Code: code.Code, Detail: detail);

    private static async Task WriteAsync(HttpResponse response, FsckLine line, CancellationToken cancellationToken)
    {
        await JsonSerializer.SerializeAsync(response.Body, line, BerthJsonContext.Default.FsckLine, cancellationToken);
        await response.Body.WriteAsync(Newline, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
