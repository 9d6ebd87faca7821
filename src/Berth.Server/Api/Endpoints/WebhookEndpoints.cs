using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Webhooks;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Webhook subscriptions of a namespace, their deliveries, redelivery and test pings (namespace admins).</summary>
internal static class WebhookEndpoints
{
    public static RouteGroupBuilder MapWebhooks(this RouteGroupBuilder api)
    {
        var hooks = api.MapGroup("/namespaces/{namespace}/webhooks").WithTags("Webhooks");
        hooks.MapGet("/", ListWebhooks).Needs(Permission.Admin).WithName("ListWebhooks").WithSummary("The namespace's webhooks (namespace admins)");
        hooks.MapPost("/", CreateWebhook).Needs(Permission.Admin).WithName("CreateWebhook")
            .WithSummary("Subscribe a URL to events; a missing secret is generated and returned once");

        // Webhooks and deliveries are addressed by id; the service demands the admin role in the webhook's namespace.
        var byId = api.MapGroup("/webhooks").WithTags("Webhooks");
        byId.MapGet("/{id:long}", GetWebhook).Needs(Permission.Read).WithName("GetWebhook").WithSummary("One webhook (namespace admins)");
        byId.MapPatch("/{id:long}", UpdateWebhook).Needs(Permission.Read).WithName("UpdateWebhook")
            .WithSummary("Change URL, events, model, secret or description; enable or disable");
        byId.MapDelete("/{id:long}", DeleteWebhook).Needs(Permission.Read).WithName("DeleteWebhook").WithSummary("Delete a webhook and its delivery log");
        byId.MapPost("/{id:long}/test", TestWebhook).Needs(Permission.Read).WithName("TestWebhook").WithSummary("Send a ping now and answer with the attempt");
        byId.MapGet("/{id:long}/deliveries", ListDeliveries).Needs(Permission.Read).WithName("ListDeliveries").WithSummary("Deliveries, newest first (?state=)");
        byId.MapGet("/deliveries/{id:long}", GetDelivery).Needs(Permission.Read).WithName("GetDelivery").WithSummary("One delivery with every attempt");
        byId.MapPost("/deliveries/{id:long}/redeliver", Redeliver).Needs(Permission.Read).WithName("Redeliver").WithSummary("Queue the delivery's event again");

        return api;
    }

    private static async Task<Ok<Page<WebhookInfo>>> ListWebhooks(WebhookService hooks, string @namespace, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await hooks.ListAsync(@namespace, new Paging(limit, cursor), cancellationToken));

    private static async Task<Created<WebhookInfo>> CreateWebhook(HttpContext context, WebhookService hooks, string @namespace, CreateWebhookRequest request, CancellationToken cancellationToken)
    {
        var created = await hooks.CreateAsync(context.GetActor(), @namespace, request, cancellationToken);
        context.Response.Headers.ETag = Revision.ETag('w', created.Id, 1);
        return TypedResults.Created($"/api/v1/webhooks/{created.Id}", created);
    }

    private static async Task<Ok<WebhookInfo>> GetWebhook(HttpContext context, WebhookService hooks, long id, CancellationToken cancellationToken) =>
        TypedResults.Ok(await hooks.GetAsync(context.GetActor(), id, cancellationToken));

    private static async Task<Ok<WebhookInfo>> UpdateWebhook(HttpContext context, WebhookService hooks, long id, UpdateWebhookRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await hooks.UpdateAsync(context.GetActor(), id, request, Revision.FromIfMatch(context.Request, 'w', id), cancellationToken));

    private static async Task<NoContent> DeleteWebhook(HttpContext context, WebhookService hooks, long id, CancellationToken cancellationToken)
    {
        await hooks.DeleteAsync(context.GetActor(), id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<DeliveryInfo>> TestWebhook(HttpContext context, WebhookService hooks, long id, CancellationToken cancellationToken) =>
        TypedResults.Ok(await hooks.TestAsync(context.GetActor(), id, cancellationToken));

    private static async Task<Ok<Page<DeliveryInfo>>> ListDeliveries(HttpContext context, WebhookService hooks, long id, string? state, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await hooks.DeliveriesAsync(context.GetActor(), id, state, new Paging(limit, cursor), cancellationToken));

    private static async Task<Ok<DeliveryInfo>> GetDelivery(HttpContext context, WebhookService hooks, long id, CancellationToken cancellationToken) =>
        TypedResults.Ok(await hooks.GetDeliveryAsync(context.GetActor(), id, cancellationToken));

    private static async Task<Accepted<DeliveryInfo>> Redeliver(HttpContext context, WebhookService hooks, long id, CancellationToken cancellationToken)
    {
        var delivery = await hooks.RedeliverAsync(context.GetActor(), id, cancellationToken);
        return TypedResults.Accepted($"/api/v1/webhooks/deliveries/{delivery.Id}", delivery);
    }
}
