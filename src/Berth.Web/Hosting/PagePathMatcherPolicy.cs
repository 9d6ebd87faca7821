using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace Berth.Web.Hosting;

/// <summary>
/// Keeps the pages' routes off the API's paths: <c>/api/v1</c> looks like the model page <c>/{ns}/{model}</c> to routing,
/// but a path that is not a page request (<see cref="WebUi.IsPageRequest"/>) must never reach a page, so that an unknown
/// API path is the API's 404 problem and never a page (nor a page's error inside the API's error handling).
/// </summary>
internal sealed class PagePathMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    public override int Order => 0;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => endpoints.Any(IsPage);

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        if (!WebUi.IsPageRequest(httpContext))
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                if (IsPage(candidates[i].Endpoint))
                {
                    candidates.SetValidity(i, false);
                }
            }
        }

        return Task.CompletedTask;
    }

    private static bool IsPage(Endpoint endpoint) => endpoint.Metadata.GetMetadata<RootComponentMetadata>() is not null;
}
