using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Endpoints;
using Berth.Server.Api.Http;
using Berth.Server.Api.Idempotency;
using Berth.Server.Api.OpenApi;
using Berth.Server.Api.Problems;
using Berth.Server.Hosting;
using Berth.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Berth.Server.Api;

/// <summary>The HTTP pipeline and every route of the server, in one readable table of contents.</summary>
public static class BerthPipeline
{
    public static WebApplication UseBerth(this WebApplication app)
    {
        app.UseMiddleware<ResponseHeadersMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages(async status =>
        {
            var context = status.HttpContext;
            if (await WebUi.TryWriteStatusPageAsync(context))
            {
                return;
            }

            var (code, detail) = context.Response.StatusCode switch
            {
                StatusCodes.Status400BadRequest => (ErrorCodes.InvalidRequest, RequestErrors.DescribeUnboundParameter(context) ?? "The request is malformed."),
                StatusCodes.Status404NotFound => (ErrorCodes.NotFound, $"There is no resource at {context.Request.Path}."),
                StatusCodes.Status405MethodNotAllowed => (ErrorCodes.MethodNotAllowed, $"{Names.Show(context.Request.Method)} is not allowed on {context.Request.Path}."),
                StatusCodes.Status412PreconditionFailed => (ErrorCodes.PreconditionFailed, "The resource does not match the request's If-Match or If-Unmodified-Since."),
                StatusCodes.Status413PayloadTooLarge => (ErrorCodes.BodyTooLarge, "The request body is too large."),
                StatusCodes.Status415UnsupportedMediaType => (ErrorCodes.UnsupportedMediaType, $"This endpoint expects 'Content-Type: application/json', not '{context.Request.ContentType}'."),
                StatusCodes.Status416RangeNotSatisfiable => (ErrorCodes.RangeNotSatisfiable, $"The requested range is outside the file ({context.Response.Headers.ContentRange})."),
                _ => (null, null),
            };
            if (code is not null)
            {
                await Problems.Problems.WriteAsync(context, code, detail!);
            }
        });
        app.Use(RequestText.CheckQueryAsync);
        var metrics = app.Services.GetRequiredService<PrometheusMetrics>();
        app.UseRouting();
        app.UseBoundedHttpMetrics(metrics.Factory);
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseMiddleware<AccessMiddleware>();
        app.UseMiddleware<IdempotencyMiddleware>();
        app.UseBerthWebHeaders();
        app.UseAntiforgery();

        // Probes and scrapes are never throttled.
        app.MapGet("/healthz", () => Results.Text("ok\n")).ExcludeFromDescription().DisableRateLimiting();
        app.MapGet("/readyz", ReadyAsync).ExcludeFromDescription().DisableRateLimiting();
        app.MapMetrics("/metrics", metrics.Registry).DisableRateLimiting();
        app.MapBerthOpenApi();

        var api = app.MapGroup("/api/v1").WithStandardProblems();
        api.MapAuth();
        api.MapModels();
        api.MapVersions();
        api.MapRuns();
        api.MapAliases();
        api.MapUploads();
        api.MapSearch();
        api.MapAdmin();
        api.MapGc();
        api.MapRetention();
        api.MapQuotas();
        api.MapGovernance();
        api.MapAudit();
        api.MapEvents();
        api.MapWebhooks();
        api.MapDeployments();

        // The OCI distribution API (docs/oci.md).
        Oci.OciEndpoints.MapOci(app);

        // The web UI: every other path (docs/ui.md).
        OidcWebSignIn.MapOidcWebSignIn(app, app.Configuration.GetSection(OidcOptions.SectionName).Get<OidcOptions>() ?? new OidcOptions());
        app.MapBerthWeb();
        return app;
    }

    /// <summary>Ready when the database answers and the blob store can be listed.</summary>
    private static async Task<IResult> ReadyAsync(RegistryDbContext db, IBlobStore store, CancellationToken cancellationToken)
    {
        var database = await db.Database.CanConnectAsync(cancellationToken);
        var blobs = true;
        try
        {
            await store.GetUploadLengthAsync(UploadId.New(), cancellationToken);
        }
        catch (Exception)
        {
            blobs = false;
        }

        var ready = database && blobs;
        return Results.Json(new Dictionary<string, string>
        {
            ["status"] = ready ? "ready" : "unavailable",
            ["database"] = database ? "ok" : "unreachable",
            ["blobStore"] = blobs ? "ok" : "unreachable",
        }, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
