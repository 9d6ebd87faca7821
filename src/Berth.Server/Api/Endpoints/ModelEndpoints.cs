using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Errors;
using Berth.Core.Registry;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Namespaces and models.</summary>
internal static class ModelEndpoints
{
    public static RouteGroupBuilder MapModels(this RouteGroupBuilder api)
    {
        var namespaces = api.MapGroup("/namespaces").WithTags("Namespaces");
        namespaces.MapGet("/", ListNamespaces).Needs(Permission.Read).WithName("ListNamespaces").WithSummary("Namespaces you can read");
        namespaces.MapPost("/", CreateNamespace).Needs(Permission.Admin).Idempotent().WithName("CreateNamespace").WithSummary("Create a namespace");
        namespaces.MapGet("/{namespace}", GetNamespace).Needs(Permission.Read).WithName("GetNamespace").WithSummary("One namespace");
        namespaces.MapDelete("/{namespace}", DeleteNamespace).Needs(Permission.Admin).WithName("DeleteNamespace")
            .WithSummary("Delete a namespace (?confirm=<namespace> required; soft: it and its models disappear at once; garbage collection purges their versions after the purge delay)");

        var models = api.MapGroup("/models/{namespace}").WithTags("Models");
        models.MapGet("/", ListModels).Needs(Permission.Read).WithName("ListModels").WithSummary("Models of a namespace, by name");
        models.MapPost("/", CreateModel).Needs(Permission.Write, createsNamespace: true).Idempotent().WithName("CreateModel").WithSummary("Create a model (pushing a version also creates it)");
        models.MapGet("/{model}", GetModel).Needs(Permission.Read).WithName("GetModel").WithSummary("A model with its aliases and stage holders");
        models.MapPatch("/{model}", UpdateModel).Needs(Permission.Write).WithName("UpdateModel").WithSummary("Change a model's description and tags (If-Match supported)");
        models.MapDelete("/{model}", DeleteModel).Needs(Permission.Admin).WithName("DeleteModel")
            .WithSummary("Delete a model (soft: it disappears at once; garbage collection purges its versions after the purge delay)");
        return api;
    }

    private static async Task<Ok<Page<NamespaceInfo>>> ListNamespaces(HttpContext context, NamespaceService service, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.ListAsync(context.GetActor(), new Paging(limit, cursor), cancellationToken));

    private static async Task<Created<NamespaceInfo>> CreateNamespace(HttpContext context, NamespaceService service, CreateNamespaceRequest request, CancellationToken cancellationToken)
    {
        var created = await service.CreateAsync(context.GetActor(), request, cancellationToken);
        return TypedResults.Created($"/api/v1/namespaces/{created.Name}", created);
    }

    private static async Task<Ok<NamespaceInfo>> GetNamespace(NamespaceService service, string @namespace, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.GetAsync(@namespace, cancellationToken));

    private static async Task<Ok<Page<ModelInfo>>> ListModels(ModelService service, string @namespace, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.ListAsync(@namespace, new Paging(limit, cursor), cancellationToken));

    private static async Task<Created<ModelInfo>> CreateModel(HttpContext context, ModelService service, string @namespace, CreateModelRequest request, CancellationToken cancellationToken)
    {
        var created = await service.CreateAsync(context.GetActor(), @namespace, request, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('m', 0, created.Revision);
        return TypedResults.Created($"/api/v1/models/{created.Namespace}/{created.Name}", created);
    }

    private static async Task<Ok<ModelInfo>> GetModel(HttpResponse response, ModelService service, string @namespace, string model, CancellationToken cancellationToken)
    {
        var info = await service.GetAsync(@namespace, model, cancellationToken);
        response.Headers.ETag = Revision.ETag('m', 0, info.Revision);
        return TypedResults.Ok(info);
    }

    private static async Task<Ok<ModelInfo>> UpdateModel(HttpContext context, ModelService service, string @namespace, string model, UpdateModelRequest request, CancellationToken cancellationToken)
    {
        var expected = Revision.FromIfMatch(context.Request, 'm', 0);
        Revision.Require(expected);
        var info = await service.UpdateAsync(@namespace, model, request, expected, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('m', 0, info.Revision);
        return TypedResults.Ok(info);
    }

    private static async Task<NoContent> DeleteNamespace(HttpContext context, NamespaceService service, string @namespace, string? confirm, CancellationToken cancellationToken)
    {
        if (!string.Equals(confirm, @namespace, StringComparison.Ordinal))
        {
            throw Fail.Error(ErrorCodes.InvalidRequest, $"Deleting a namespace deletes every model in it; repeat its name to confirm: ?confirm={@namespace}.");
        }

        await service.DeleteAsync(context.GetActor(), @namespace, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> DeleteModel(HttpContext context, ModelService service, string @namespace, string model, CancellationToken cancellationToken)
    {
        await service.DeleteAsync(context.GetActor(), @namespace, model, cancellationToken);
        return TypedResults.NoContent();
    }
}
