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

internal static class SearchEndpoints
{
    public static RouteGroupBuilder MapSearch(this RouteGroupBuilder api)
    {
        api.MapGet("/search", Search).Needs(Permission.Read).WithTags("Search").WithName("SearchVersions")
            .WithSummary("Ready versions matching a filter (q), e.g. metrics.auc > 0.9 and tags.team = \"risk\"; sort by created, version, name or metrics.<key> (prefix '-' for descending)");
        return api;
    }

    private static async Task<Ok<Page<VersionInfo>>> Search(HttpContext context, SearchService search, string? q, string? sort, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await search.SearchAsync(context.GetActor(), q, sort, new Paging(limit, cursor), cancellationToken));
}
