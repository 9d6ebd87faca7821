using System.Diagnostics;
using Berth.Core.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Berth.Web.Hosting;

/// <summary>
/// An exception while answering a page becomes an error page in the layout: a <see cref="RegistryException"/> with its
/// status and message (404, 403 …), anything else a 500 that shows the request id to quote (and is logged with it).
/// Requests to the API fall through to its problem-details handler.
/// </summary>
internal sealed partial class WebExceptionHandler(ILogger<WebExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!WebUi.IsPageRequest(context) || context.Response.HasStarted)
        {
            return false;
        }

        var requestId = Activity.Current?.Id ?? context.TraceIdentifier;
        if (exception.InnerException is PageErrorException or RegistryException && exception is not (PageErrorException or RegistryException))
        {
            exception = exception.InnerException!;
        }

        var error = exception switch
        {
            PageErrorException e => e.Error,
            RegistryException e => new ErrorInfo(e.Error.Status, e.Message, null),
            BadHttpRequestException e => new ErrorInfo(e.StatusCode, null, null),
            _ => new ErrorInfo(StatusCodes.Status500InternalServerError, null, requestId),
        };
        if (error.Status >= 500)
        {
            LogPageFailed(logger, exception, context.Request.Path, requestId);
        }

        context.Response.Clear();
        await WebUi.WriteErrorPageAsync(context, error);
        return true;
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "The page {Path} failed (request {RequestId})")]
    private static partial void LogPageFailed(ILogger logger, Exception exception, string path, string requestId);
}
