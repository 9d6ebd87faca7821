using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Governance;
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
            .WithSummary("Point an alias at a version (200; If-Match supported); a protected alias opens a request instead (202)")
            .Produces<TransitionResult>(StatusCodes.Status200OK).Produces<TransitionResult>(StatusCodes.Status202Accepted);
        model.MapDelete("/aliases/{alias}", Remove).Needs(Permission.Write).WithName("RemoveAlias").WithSummary("Remove an alias (a protected one: namespace admins only)");
        model.MapGet("/history", History).Needs(Permission.Read).WithName("GetHistory").WithTags("History")
            .WithSummary("Stage changes, alias moves, deletions and requests, oldest first (kind, stage and alias filters)");
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

    private static async Task<IResult> Set(HttpContext context, LifecycleService service, VersionService versions, RequestService requests, string @namespace, string model, string alias, SetAliasRequest request, CancellationToken cancellationToken)
    {
        var expected = Revision.FromIfMatch(context.Request, 'a', 0);
        Revision.Require(expected);
        var actor = context.GetActor();
        var outcome = await service.SetAliasAsync(actor, @namespace, model, alias, request, expected, cancellationToken);
        var version = await versions.GetByIdAsync(outcome.VersionId, withFiles: false, cancellationToken);
        if (outcome.RequestId is { } id)
        {
            var opened = await requests.GetAsync(actor, id, cancellationToken);
            return TypedResults.Accepted($"/api/v1/requests/{id}", new TransitionResult(outcome.Kind, version, null, opened));
        }

        var (info, revision) = await service.GetAliasAsync(@namespace, model, alias, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('a', 0, revision);
        return TypedResults.Ok(new TransitionResult(outcome.Kind, version, info));
    }

    private static async Task<NoContent> Remove(HttpContext context, LifecycleService service, string @namespace, string model, string alias, CancellationToken cancellationToken)
    {
        var expected = Revision.FromIfMatch(context.Request, 'a', 0);
        Revision.Require(expected);
        await service.RemoveAliasAsync(context.GetActor(), @namespace, model, alias, expected, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<Page<HistoryEntry>>> History(HistoryService service, string @namespace, string model, string? kind, string? stage, string? alias, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.ListAsync(@namespace, model, kind, stage, alias, new Paging(limit, cursor), cancellationToken));
}
