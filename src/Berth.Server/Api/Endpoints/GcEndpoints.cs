using Berth.Contracts.Dtos;
using Berth.Core.Gc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Garbage collection, run by server administrators (<c>berth gc</c>).</summary>
internal static class GcEndpoints
{
    public static RouteGroupBuilder MapGc(this RouteGroupBuilder api)
    {
        var gc = api.MapGroup("/gc").WithTags("Storage").NeedsServerAdmin();
        gc.MapPost("/", RunGc).WithName("RunGc")
            .WithSummary("Purge versions deleted longer ago than the purge delay, delete unreferenced blobs past the grace period and expired upload sessions; with dryRun=true only report what would go");
        return api;
    }

    private static async Task<Ok<GcReport>> RunGc(GarbageCollector collector, bool? dryRun, CancellationToken cancellationToken) =>
        TypedResults.Ok(await collector.RunAsync(dryRun ?? false, cancellationToken));
}
