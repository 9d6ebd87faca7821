using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Berth.Contracts.Errors;
using Berth.Server.Api.Auth;
using Berth.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Server.Api.RateLimiting;

/// <summary>
/// ASP.NET Core's rate limiter with Berth's partitions (<see cref="RateLimitOptions"/>): per token for authenticated
/// requests, per client address for the rest, transfers apart. It runs after authentication (so it knows the token)
/// and before authorization and the endpoint. A refusal is 429 <c>rate_limited</c> with <c>Retry-After</c>.
/// </summary>
internal static class BerthRateLimits
{
    public static IServiceCollection AddBerthRateLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, settings) =>
        {
            var limits = settings.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, limits));
            limiter.OnRejected = RejectAsync;
        });
        return services;
    }

    /// <summary>Marks endpoints that move bytes (see <see cref="ByteTransfer"/>).</summary>
    public static TBuilder TransfersBytes<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ByteTransfer.Instance);

    private static RateLimitPartition<string> Partition(HttpContext context, RateLimitOptions limits)
    {
        var endpoint = context.GetEndpoint();
        if (!limits.Enabled || endpoint?.Metadata.GetMetadata<DisableRateLimitingAttribute>() is not null)
        {
            return RateLimitPartition.GetNoLimiter("none");
        }

        var transfer = endpoint?.Metadata.GetMetadata<ByteTransfer>() is not null;
        var actor = context.AuthenticatedActor();
        var (key, burst, refill) = actor is not null
            ? ($"token:{(actor.TokenId is { } id ? id.ToString(CultureInfo.InvariantCulture) : "user-" + actor.UserId.ToString(CultureInfo.InvariantCulture))}", limits.TokenBurst, limits.TokenRefill)
            : ($"address:{Address(context.Connection.RemoteIpAddress)}", limits.AddressBurst, limits.AddressRefill);
        if (transfer)
        {
            (key, burst, refill) = ("transfer:" + key, limits.TransferBurst, limits.TransferRefill);
        }

        return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = refill,
            ReplenishmentPeriod = limits.Period,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    /// <summary>The client's address; IPv6 clients by their /64, which one machine usually holds whole.</summary>
    private static string Address(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var who = context.AuthenticatedActor() is not null ? "this token" : "your address";
        if (Oci.OciAuthenticationHandler.Applies(context))
        {
            await Oci.OciResponses.WriteErrorAsync(context, Core.Oci.OciError.TooManyRequests, $"Too many requests from {who}; retry in {seconds} s.");
            return;
        }

        await Problems.Problems.WriteAsync(
            context,
            ErrorCodes.RateLimited,
            $"Too many requests from {who}; retry in {seconds} s. The server's limits are described in its configuration (RateLimits).",
            new Dictionary<string, object?> { ["retryAfter"] = seconds });
    }
}
