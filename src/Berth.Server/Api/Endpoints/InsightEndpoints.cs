using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Insight.Service;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Model insight: what Berth read inside a version, a namespace's scan policy, and recomputing (docs/insight.md).</summary>
internal static class InsightEndpoints
{
    public static RouteGroupBuilder MapInsight(this RouteGroupBuilder api)
    {
        api.MapGet("/models/{namespace}/{model}/versions/{selector}/insight", GetInsight).Needs(Permission.Read).WithTags("Versions").WithName("GetVersionInsight")
            .WithSummary("What Berth read inside a version: the state of the reading (pending, done, failed with a reason), its metadata, the pickle scan and each file's details");

        var policy = api.MapGroup("/namespaces/{namespace}/scan-policy").WithTags("Namespaces");
        policy.MapGet("/", GetPolicy).Needs(Permission.Read).WithName("GetScanPolicy")
            .WithSummary("The namespace's pickle-scan policy: off, warn (default) or block");
        policy.MapPut("/", SetPolicy).Needs(Permission.Admin).WithName("SetScanPolicy")
            .WithSummary("Set the namespace's pickle-scan policy (its admins): off, warn or block (a commit with a dangerous file is then refused with 422 unsafe_model)");

        api.MapPost("/insight/recompute", Recompute).NeedsServerAdmin().WithTags("Storage").WithName("RecomputeInsight")
            .WithSummary("Read ready versions again (all, a namespace's, a model's or one), e.g. after an upgrade reads more formats; answers how many were queued");
        return api;
    }

    private static async Task<Ok<VersionInsight>> GetInsight(InsightService service, string @namespace, string model, string selector, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.GetAsync(@namespace, model, selector, cancellationToken));

    private static async Task<Ok<ScanPolicyInfo>> GetPolicy(InsightService service, string @namespace, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.GetPolicyAsync(@namespace, cancellationToken));

    private static async Task<Ok<ScanPolicyInfo>> SetPolicy(InsightService service, string @namespace, SetScanPolicyRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.SetPolicyAsync(@namespace, request.Policy, cancellationToken));

    private static async Task<Ok<RecomputeInsightResponse>> Recompute(InsightService service, RecomputeInsightRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(new RecomputeInsightResponse(await service.RecomputeAsync(request, cancellationToken)));
}
