using System.Diagnostics;
using Berth.Contracts.Errors;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Berth.Server.Api.Auth;

/// <summary>
/// Checks every API call before its body is read: the endpoint's <see cref="RequiredPermission"/>, in the
/// namespace named by the route, through <see cref="AccessControl"/> (or <see cref="RequiredServerAdmin"/>).
/// Endpoints without either (health, metrics, docs, sign-in) are open. Also tells the audit log who is
/// acting, from where, in which request.
/// </summary>
internal sealed class AccessMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, AccessControl access, AuditContext audit)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        var required = metadata?.GetMetadata<RequiredPermission>();
        var serverAdmin = metadata?.GetMetadata<RequiredServerAdmin>() is not null;
        if (required is null && !serverAdmin)
        {
            // Open endpoints and the web UI's pages: whoever the authentication found (the UI checks permissions itself).
            audit.Set(context.PeekActor(), context.Connection.RemoteIpAddress?.ToString(), RequestId(context));
            await next(context);
            return;
        }

        var actor = context.GetActor();
        audit.Set(actor, context.Connection.RemoteIpAddress?.ToString(), RequestId(context));
        var ns = context.Request.RouteValues.TryGetValue("namespace", out var value) ? value as string : null;
        if (serverAdmin)
        {
            // Under /namespaces/{namespace}, a caller who may not see the namespace gets the answer for one that does not exist.
            await access.DemandAsync(actor, Permission.Read, ns, context.RequestAborted);
            if (!actor.IsAdmin || !actor.Scopes.HasFlag(TokenScopes.Admin))
            {
                throw new RegistryException(ErrorCodes.Forbidden, "Only server administrators (with an admin-scoped token) may do this.");
            }
        }

        if (required is not null)
        {
            await access.DemandAsync(actor, required.Permission, ns, required.CreatesNamespace, context.RequestAborted);
        }

        await next(context);
    }

    /// <summary>The same id that problem answers carry, so an audit entry leads to the request's log lines.</summary>
    internal static string RequestId(HttpContext context) => Activity.Current?.Id ?? context.TraceIdentifier;
}
