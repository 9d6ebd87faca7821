using System.Text.Json;
using Berth.Contracts.Errors;
using Berth.Core.Blobs;
using Berth.Core.Data;
using Berth.Core.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Berth.Server.Api.Problems;

/// <summary>
/// The one mapping from exceptions to responses: domain errors keep their code; malformed requests
/// become 4xx with a precise code; a full disk (blob folder or database) is a 507; an unreachable database is a 503;
/// anything else is a logged 500
/// whose request id lets an operator find it.
/// </summary>
internal sealed partial class RegistryExceptionHandler(IDatabaseErrors databaseErrors, ILogger<RegistryExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is listening for a response.
            return true;
        }

        if (context.Response.HasStarted)
        {
            LogAfterStart(logger, exception);
            context.Abort();
            return true;
        }

        switch (exception)
        {
            case RegistryException e:
                foreach (var (name, value) in e.Headers)
                {
                    context.Response.Headers[name] = value;
                }

                await Problems.WriteAsync(context, e.Error, e.Message, e.Extensions);
                return true;

            case BadHttpRequestException e:
                var (code, detail) = Describe(e, context);
                await Problems.WriteAsync(context, code, detail);
                return true;

            case JsonException e:
                var (jsonCode, jsonDetail) = RequestErrors.Describe(e, context);
                await Problems.WriteAsync(context, jsonCode, jsonDetail);
                return true;

            case BlobNotFoundException e:
                LogMissingBlob(logger, e.Digest.ToString());
                await Problems.WriteAsync(context, ErrorCodes.StorageFailed, $"Blob {e.Digest} is recorded but missing from the blob store; an operator must restore it.");
                return true;

            case var e when DiskFull.Is(e) || databaseErrors.IsStorageFull(e):
                var where = DiskFull.Is(e) ? "storing the uploaded bytes" : "writing to its database";
                LogStorageFull(logger, where, e.Message);
                await Problems.WriteAsync(context, ErrorCodes.InsufficientStorage,
                    $"The server ran out of disk space {where}; nothing of this request was kept. Retry once an operator has freed space (a push resumes).");
                return true;

            case BlobStoreException e:
                LogStoreFailed(logger, e.Message);
                context.Response.Headers.RetryAfter = "5";
                await Problems.WriteAsync(context, ErrorCodes.StorageFailed, $"{e.Message}. Nothing was stored from this request; retry once the blob store is back.");
                return true;

            case var e when databaseErrors.IsUnavailable(e):
                LogUnavailable(logger, e);
                context.Response.Headers.RetryAfter = "5";
                await Problems.WriteAsync(context, ErrorCodes.Unavailable, "The metadata database is unavailable; retry in a few seconds.");
                return true;

            default:
                LogUnhandled(logger, exception, context.TraceIdentifier);
                await Problems.WriteAsync(context, ErrorCodes.Internal, "The server failed to handle the request. The request id identifies it in the server's logs.");
                return true;
        }
    }

    private static (ErrorCode Code, string Detail) Describe(BadHttpRequestException e, HttpContext context)
    {
        if (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (ErrorCodes.BodyTooLarge, $"The request body is larger than this endpoint accepts ({Hosting.BerthServer.MaxJsonBodySize} bytes for JSON).");
        }

        if (e.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return (ErrorCodes.UnsupportedMediaType, "This endpoint expects a JSON body with 'Content-Type: application/json'.");
        }

        if (e.InnerException is JsonException json)
        {
            return RequestErrors.Describe(json, context);
        }

        if (e.Message.Contains("body", StringComparison.OrdinalIgnoreCase)
            && (e.Message.Contains("not provided", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("no body was provided", StringComparison.OrdinalIgnoreCase)))
        {
            return (ErrorCodes.InvalidRequest, "This endpoint needs a JSON request body.");
        }

        if (e.Message.StartsWith("Failed to read parameter", StringComparison.Ordinal))
        {
            return (ErrorCodes.InvalidJson, "The request body could not be read as JSON.");
        }

        return (ErrorCodes.InvalidRequest, RequestErrors.DescribeParameter(e) ?? e.Message);
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Unhandled error in request {RequestId}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string requestId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "The metadata database is unavailable")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Blob {Digest} is recorded in the database but missing from the store")]
    private static partial void LogMissingBlob(ILogger logger, string digest);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "{Failure}")]
    private static partial void LogStoreFailed(ILogger logger, string failure);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Out of disk space {Where}: {Failure}")]
    private static partial void LogStorageFull(ILogger logger, string where, string failure);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Request failed after the response started; connection aborted")]
    private static partial void LogAfterStart(ILogger logger, Exception exception);
}
