using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Registry;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Deployment records: where versions run, as deployment systems report it.</summary>
internal static class DeploymentEndpoints
{
    public static RouteGroupBuilder MapDeployments(this RouteGroupBuilder api)
    {
        var deployments = api.MapGroup("/models/{namespace}/{model}").WithTags("Deployments");
        deployments.MapPost("/versions/{selector}/deployments", RecordDeployment).Needs(Permission.Write).WithName("RecordDeployment")
            .WithSummary("Report that a version is deploying, live, retired or failed in an environment");
        deployments.MapGet("/deployments", ListDeployments).Needs(Permission.Read).WithName("ListDeployments")
            .WithSummary("Deployment records, newest first (?environment=&version=)");
        return api;
    }

    private static async Task<Created<DeploymentInfo>> RecordDeployment(HttpContext context, DeploymentService deployments, string @namespace, string model, string selector, RecordDeploymentRequest request, CancellationToken cancellationToken)
    {
        var record = await deployments.RecordAsync(context.GetActor(), @namespace, model, selector, request, cancellationToken);
        return TypedResults.Created($"/api/v1/models/{@namespace}/{model}/deployments?environment={record.Environment}", record);
    }

    private static async Task<Ok<Page<DeploymentInfo>>> ListDeployments(DeploymentService deployments, string @namespace, string model, string? environment, string? version, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await deployments.ListAsync(@namespace, model, environment, version, new Paging(limit, cursor), cancellationToken));
}
