using Berth.Core.Auth;
using Microsoft.AspNetCore.Http;

namespace Berth.Server.Api.Auth;

/// <summary>
/// Checks every API call before its body is read: the endpoint's <see cref="RequiredPermission"/>,
/// in the namespace named by the route, through <see cref="AccessControl"/>. Endpoints without the
/// metadata (health, metrics, docs) are open.
/// </summary>
internal sealed class AccessMiddleware(RequestDelegate next, AccessControl access)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequiredPermission>() is { } required)
        {
            var ns = context.Request.RouteValues.TryGetValue("namespace", out var value) ? value as string : null;
            access.Demand(context.GetActor(), required.Permission, ns);
        }

        return next(context);
    }
}
