using System.Diagnostics;
using System.Text;
using Berth.Contracts.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Server.Api.Problems;

/// <summary>
/// Writes RFC 9457 problems with Berth's stable <c>code</c> and the request id. A problem is always JSON
/// (<c>application/problem+json</c>), whatever the request's <c>Accept</c> says: a client that asked for a
/// file's bytes still has to learn why it got none, and an empty error body would hide the code.
/// </summary>
internal static class Problems
{
    public const string MediaType = "application/problem+json";

    /// <summary>The challenge of every 401 (RFC 9110 §11.6.1, RFC 6750 §3).</summary>
    public const string Realm = "berth";

    public static async Task WriteAsync(HttpContext context, ErrorCode error, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails
        {
            Type = error.TypeUri,
            Title = error.Title,
            Status = error.Status,
            Detail = detail,
            Instance = context.Request.Path,
        };
        problem.Extensions["code"] = error.Code;
        problem.Extensions["requestId"] = Activity.Current?.Id ?? context.TraceIdentifier;
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
        {
            problem.Extensions[key] = value;
        }

        var response = context.Response;
        response.StatusCode = error.Status;
        // An error is about this request only: never keep it in a cache.
        response.Headers.CacheControl = "no-store";
        if (error.Status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = Challenge(context, detail);
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            response.ContentType = MediaType;
            return;
        }

        var json = context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        await response.WriteAsJsonAsync(problem, json.GetTypeInfo(typeof(ProblemDetails)), MediaType, context.RequestAborted);
    }

    /// <summary>
    /// <c>Bearer realm="berth"</c>; when the request presented credentials that were refused, also
    /// <c>error="invalid_token"</c> and the reason, as RFC 6750 §3.1 asks.
    /// </summary>
    private static string Challenge(HttpContext context, string detail)
    {
        if (context.Request.Headers.Authorization.Count == 0)
        {
            return $"Bearer realm=\"{Realm}\"";
        }

        return $"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"{DescriptionText(detail)}\"";
    }

    /// <summary>error_description allows printable ASCII without '"' and '\' (RFC 6750 §3).</summary>
    private static string DescriptionText(string detail)
    {
        var text = new StringBuilder(Math.Min(detail.Length, 200));
        foreach (var c in detail)
        {
            if (text.Length == 200)
            {
                break;
            }

            text.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c : c == '"' ? '\'' : '?');
        }

        return text.ToString();
    }
}
