using Berth.Core.Auth;
using Berth.Web.Components;
using Berth.Web.Rendering;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Web.Hosting;

/// <summary>
/// Wires the web UI into the server: services, security headers, the static assets and the pages. The UI owns every
/// path except the API's and the operational ones (<see cref="IsPageRequest"/>); there, errors are pages in the layout
/// rather than problem JSON.
/// </summary>
public static class WebUi
{
    /// <summary>Paths that are never UI pages: they keep their JSON problems and their own headers.</summary>
    private static readonly string[] NonPagePrefixes = ["/api", "/v2", "/healthz", "/readyz", "/metrics", "/static"];

    /// <param name="actorOf">Who the caller is (the server's authentication decides; the UI only asks).</param>
    public static IServiceCollection AddBerthWeb(this IServiceCollection services, Func<HttpContext, Actor> actorOf)
    {
        services.AddOptions<WebOptions>().BindConfiguration(WebOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRazorComponents();
        services.AddHttpContextAccessor();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "berth_antiforgery";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "_csrf";
        });
        services.AddSingleton(new ViewerSource(actorOf));
        services.AddScoped<Viewer>();
        services.AddSingleton<StaticAssets>();
        services.AddSingleton<SessionCookie>();
        services.AddSingleton<MarkdownRenderer>();
        services.AddScoped<Flash>();
        // Read-only queries only the run pages ask (sorting the runs table by any column, a run's clock for time axes).
        services.AddScoped<Berth.Core.Runs.RunCatalog>();
        services.AddScoped<Berth.Core.Runs.RunClock>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, PagePathMatcherPolicy>());
        // Before the API's handler: on a page, an error is a page.
        services.AddExceptionHandler<WebExceptionHandler>();
        return services;
    }

    /// <summary>True for requests the UI answers (everything but the API, OCI, health, metrics and static assets).</summary>
    public static bool IsPageRequest(HttpContext context)
    {
        var path = context.Request.Path;
        foreach (var prefix in NonPagePrefixes)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Security headers of every page: a strict Content-Security-Policy (no inline script or style), no framing, no sniffing, no caching.</summary>
    public static IApplicationBuilder UseBerthWebHeaders(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (IsPageRequest(context))
            {
                SecurityHeaders.Apply(context.Response.Headers);
            }

            await next(context);
        });

    /// <summary>Maps <c>/static/…</c> and every page.</summary>
    public static IEndpointRouteBuilder MapBerthWeb(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods(StaticAssets.PathPrefix + "{file}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string file, StaticAssets assets) => assets.ServeAsync(context, file))
            .ExcludeFromDescription();
        // A run's images, for the img elements of its page (before the pages: a more specific route than any of theirs).
        endpoints.MapGet(RunFileImages.Template, RunFileImages.ServeAsync).ExcludeFromDescription();
        endpoints.MapRazorComponents<App>();
        return endpoints;
    }

    /// <summary>
    /// Writes the status page (404, 403, 400 …) of a page request that ended with an empty error response; false for other requests.
    /// </summary>
    public static async Task<bool> TryWriteStatusPageAsync(HttpContext context)
    {
        if (!IsPageRequest(context) || context.Response.HasStarted)
        {
            return false;
        }

        await WriteErrorPageAsync(context, new ErrorInfo(context.Response.StatusCode, null, null));
        return true;
    }

    /// <summary>
    /// Renders the error page in a fresh service scope: the failed page may have initialised this request's rendering
    /// services (navigation, headers) already.
    /// </summary>
    internal static async Task WriteErrorPageAsync(HttpContext context, ErrorInfo error)
    {
        SecurityHeaders.Apply(context.Response.Headers);
        context.Response.Headers.Remove("blazor-enhanced-nav");
        var result = new RazorComponentResult<App>(new Dictionary<string, object?> { [nameof(App.Error)] = error })
        {
            StatusCode = error.Status,
            ContentType = "text/html; charset=utf-8",
        };
        var original = context.RequestServices;
        await using var scope = original.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
        context.RequestServices = scope.ServiceProvider;
        try
        {
            await result.ExecuteAsync(context);
        }
        finally
        {
            context.RequestServices = original;
        }
    }

    /// <summary>
    /// A page that answers with an error status writes its own body (the error in the layout): the status-code pages
    /// must leave it alone (and Blazor must not leave the body to them).
    /// </summary>
    public static void KeepErrorBody(HttpContext context)
    {
        if (context.Features.Get<IStatusCodePagesFeature>() is { } feature)
        {
            feature.Enabled = false;
        }
    }
}
