using Berth.Core.Auth;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Idempotency;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

internal static class EndpointConventions
{
    /// <summary>The permission this endpoint needs in the namespace of its route (see <see cref="AccessMiddleware"/>).</summary>
    /// <param name="createsNamespace">The endpoint creates the namespace on first use (a push).</param>
    public static TBuilder Needs<TBuilder>(this TBuilder builder, Permission permission, bool createsNamespace = false) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredPermission(permission, createsNamespace));

    /// <summary>Only server administrators may call this endpoint.</summary>
    public static TBuilder NeedsServerAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(RequiredServerAdmin.Instance);

    /// <summary>Marks a creating call that honours Idempotency-Key.</summary>
    public static RouteHandlerBuilder Idempotent(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(IdempotentCreate.Instance);

    /// <summary>Documents the problem responses every API call can give.</summary>
    public static RouteGroupBuilder WithStandardProblems(this RouteGroupBuilder group) =>
        group
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
}
