using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Gc;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Retention policies of namespaces and models, and their dry run.</summary>
internal static class RetentionEndpoints
{
    public static RouteGroupBuilder MapRetention(this RouteGroupBuilder api)
    {
        var space = api.MapGroup("/namespaces/{namespace}/retention").WithTags("Retention");
        space.MapGet("/", GetNamespaceRetention).Needs(Permission.Read).WithName("GetNamespaceRetention").WithSummary("The namespace's retention policy");
        space.MapPut("/", SetNamespaceRetention).Needs(Permission.Admin).WithName("SetNamespaceRetention").WithSummary("Set the namespace's retention policy");
        space.MapDelete("/", RemoveNamespaceRetention).Needs(Permission.Admin).WithName("RemoveNamespaceRetention").WithSummary("Remove the namespace's retention policy");
        space.MapGet("/preview", PreviewNamespaceRetention).Needs(Permission.Read).WithName("PreviewNamespaceRetention")
            .WithSummary("The versions the retention policies in effect in the namespace would delete now");

        var model = api.MapGroup("/models/{namespace}/{model}/retention").WithTags("Retention");
        model.MapGet("/", GetModelRetention).Needs(Permission.Read).WithName("GetModelRetention").WithSummary("The model's own retention policy");
        model.MapPut("/", SetModelRetention).Needs(Permission.Admin).WithName("SetModelRetention").WithSummary("Set the model's own retention policy (replaces the namespace's for it)");
        model.MapDelete("/", RemoveModelRetention).Needs(Permission.Admin).WithName("RemoveModelRetention").WithSummary("Remove the model's own retention policy (the namespace's applies again)");
        model.MapGet("/preview", PreviewModelRetention).Needs(Permission.Read).WithName("PreviewModelRetention")
            .WithSummary("The versions of the model the retention policy in effect would delete now");
        return api;
    }

    private static async Task<Ok<RetentionPolicyInfo>> GetNamespaceRetention(RetentionService service, string @namespace, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.GetAsync(@namespace, null, cancellationToken));

    private static async Task<Ok<RetentionPolicyInfo>> SetNamespaceRetention(RetentionService service, string @namespace, SetRetentionRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.SetAsync(@namespace, null, request, cancellationToken));

    private static async Task<NoContent> RemoveNamespaceRetention(RetentionService service, string @namespace, CancellationToken cancellationToken)
    {
        await service.RemoveAsync(@namespace, null, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<RetentionPreview>> PreviewNamespaceRetention(RetentionService service, string @namespace, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.PreviewAsync(@namespace, null, cancellationToken));

    private static async Task<Ok<RetentionPolicyInfo>> GetModelRetention(RetentionService service, string @namespace, string model, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.GetAsync(@namespace, model, cancellationToken));

    private static async Task<Ok<RetentionPolicyInfo>> SetModelRetention(RetentionService service, string @namespace, string model, SetRetentionRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.SetAsync(@namespace, model, request, cancellationToken));

    private static async Task<NoContent> RemoveModelRetention(RetentionService service, string @namespace, string model, CancellationToken cancellationToken)
    {
        await service.RemoveAsync(@namespace, model, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<RetentionPreview>> PreviewModelRetention(RetentionService service, string @namespace, string model, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.PreviewAsync(@namespace, model, cancellationToken));
}
