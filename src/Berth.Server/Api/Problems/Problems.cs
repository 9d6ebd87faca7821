using System.Diagnostics;
using Berth.Contracts.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Server.Api.Problems;

/// <summary>Writes RFC 9457 problems with Berth's stable <c>code</c> and the request id.</summary>
internal static class Problems
{
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

        context.Response.StatusCode = error.Status;
        var writer = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await writer.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }
}
