using Berth.Web.Hosting;
using Microsoft.AspNetCore.Http;

namespace Berth.Server.Api.Http;

/// <summary>
/// Headers every response carries, set just before the response starts (so after the endpoint, the
/// exception handler or an idempotent replay wrote theirs):
/// <list type="bullet">
/// <item><c>X-Content-Type-Options: nosniff</c>: a browser never guesses a type from the bytes.</item>
/// <item><c>Cache-Control: no-store</c> on every response to a request with credentials (a bearer token or the web UI's session cookie), every error and every
/// change: what a token may see is never kept by a browser or a proxy for the next user.</item>
/// <item>Anonymous reads that succeeded (only possible with <c>--anonymous-read</c>, or health and metrics)
/// get <c>Cache-Control: no-cache</c> unless the endpoint chose otherwise: a cache may keep them but must ask
/// again (with the <c>ETag</c>) before every use, so a deleted version or a server that stops allowing anonymous
/// reads is never served from a cache.</item>
/// </list>
/// </summary>
internal sealed class ResponseHeadersMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            var response = context.Response;
            response.Headers.XContentTypeOptions = "nosniff";
            var request = context.Request;
            // A web UI session cookie is credentials too (downloads from a signed-in browser).
            var anonymousRead = request.Headers.Authorization.Count == 0
                && !request.Cookies.ContainsKey(SessionCookie.Name)
                && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                && response.StatusCode < StatusCodes.Status400BadRequest;
            if (!anonymousRead)
            {
                response.Headers.CacheControl = "no-store";
            }
            else if (response.Headers.CacheControl.Count == 0)
            {
                response.Headers.CacheControl = "no-cache";
            }

            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
