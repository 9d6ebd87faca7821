using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Registry;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Storage quotas of namespaces: read by its members, set by server administrators (<c>berth quota</c>).</summary>
internal static class QuotaEndpoints
{
    public static RouteGroupBuilder MapQuotas(this RouteGroupBuilder api)
    {
        var quota = api.MapGroup("/namespaces/{namespace}/quota").WithTags("Namespaces");
        quota.MapGet("/", GetQuota).Needs(Permission.Read).WithName("GetNamespaceQuota")
            .WithSummary("The namespace's quotas (bytes, versions; null: unlimited) and its usage (logical bytes and versions of its pending and ready versions)");
        quota.MapPut("/", SetQuota).NeedsServerAdmin().WithName("SetNamespaceQuota")
            .WithSummary("Set both quotas of the namespace (null: unlimited); pushes over a quota are refused at declaration with 409 quota_exceeded");
        return api;
    }

    private static async Task<Ok<QuotaInfo>> GetQuota(NamespaceService service, string @namespace, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.GetQuotaAsync(@namespace, cancellationToken));

    private static async Task<Ok<QuotaInfo>> SetQuota(NamespaceService service, string @namespace, SetQuotaRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.SetQuotaAsync(@namespace, request, cancellationToken));
}
