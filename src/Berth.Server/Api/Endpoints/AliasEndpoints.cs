using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Registry;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Aliases and the model's lifecycle history.</summary>
internal static class AliasEndpoints
{
    public static RouteGroupBuilder MapAliases(this RouteGroupBuilder api)
    {
        var model = api.MapGroup("/models/{namespace}/{model}").WithTags("Aliases");
        model.MapGet("/aliases", List).Needs(Permission.Read).WithName("ListAliases").WithSummary("Aliases of a model");
        model.MapGet("/aliases/{alias}", Get).Needs(Permission.Read).WithName("GetAlias").WithSummary("One alias");
        model.MapPut("/aliases/{alias}", Set).Needs(Permission.Write).WithName("SetAlias")
            .WithSummary("Point an alias at a version (create or move it; If-Match supported)");
        model.MapDelete("/aliases/{alias}", Remove).Needs(Permission.Write).WithName("RemoveAlias").WithSummary("Remove an alias");
        model.MapGet("/history", History).Needs(Permission.Read).WithName("GetHistory").WithTags("History")
            .WithSummary("Stage changes, alias moves and deletions, oldest first");
        return api;
    }

    private static async Task<Ok<Page<AliasInfo>>> List(LifecycleService service, string @namespace, string model, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.ListAliasesAsync(@namespace, model, new Paging(limit, cursor), cancellationToken));

    private static async Task<Ok<AliasInfo>> Get(HttpResponse response, LifecycleService service, string @namespace, string model, string alias, CancellationToken cancellationToken)
    {
        var (info, revision) = await service.GetAliasAsync(@namespace, model, alias, cancellationToken);
        response.Headers.ETag = Revision.ETag('a', 0, revision);
        return TypedResults.Ok(info);
    }

    private static async Task<Ok<AliasInfo>> Set(HttpContext context, LifecycleService service, string @namespace, string model, string alias, SetAliasRequest request, CancellationToken cancellationToken)
    {
        var expected = Revision.FromIfMatch(context.Request, 'a', 0);
        Revision.Require(expected);
        var (info, revision) = await service.SetAliasAsync(context.GetActor(), @namespace, model, alias, request, expected, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('a', 0, revision);
        return TypedResults.Ok(info);
    }

    private static async Task<NoContent> Remove(HttpContext context, LifecycleService service, string @namespace, string model, string alias, CancellationToken cancellationToken)
    {
        var expected = Revision.FromIfMatch(context.Request, 'a', 0);
        Revision.Require(expected);
        await service.RemoveAliasAsync(context.GetActor(), @namespace, model, alias, expected, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<Page<HistoryEntry>>> History(LifecycleService service, string @namespace, string model, string? kind, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.HistoryAsync(@namespace, model, kind, new Paging(limit, cursor), cancellationToken));
}
