using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Berth.Server.Api.OpenApi;

/// <summary>The OpenAPI document at /api/v1/openapi.json and the browsable reference at /api/docs.</summary>
internal static class OpenApiSetup
{
    public const string DocumentRoute = "/api/{documentName}/openapi.json";

    public static IServiceCollection AddBerthOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Berth API",
                    Version = "v1",
                    Description = """
                        The REST API of Berth, a self-hosted model registry. Authenticate with `Authorization: Bearer berth_…`.
                        Errors are RFC 9457 problem details with a stable `code`. Lists are paginated with `limit` and an opaque `cursor`
                        (the `nextCursor` of the previous page). Mutable resources carry an `ETag`; send it back in `If-Match` to update
                        safely. Creating calls accept an `Idempotency-Key` header so that retries are safe.
                        """,
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "berth_<48 characters>",
                    Description = "An API token created at first start (admin-token) or with 'berth token create'; on servers configured for OIDC, also the identity provider's JWT (docs/oidc.md).",
                };
                document.Security ??= [];
                document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
                return Task.CompletedTask;
            });
        });

    public static void MapBerthOpenApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(DocumentRoute);
        endpoints.MapScalarApiReference("/api/docs", options => options
            .WithTitle("Berth API reference")
            .WithOpenApiRoutePattern(DocumentRoute));
    }
}
