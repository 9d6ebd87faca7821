using System.Globalization;
using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Configuration;
using Berth.Core.Events;
using Berth.Core.Registry;
using Berth.Core.Webhooks;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Berth.Server.Api.Endpoints;

/// <summary>The event stream (Server-Sent Events), the polling endpoint, webhooks and deployment records.</summary>
internal static class EventEndpoints
{
    public static RouteGroupBuilder MapEvents(this RouteGroupBuilder api)
    {
        var events = api.MapGroup("/events").WithTags("Events");
        events.MapGet("/", Poll).Needs(Permission.Read).WithName("ListEvents")
            .WithSummary("Events after a cursor (?since=<id>&namespace=&model=&type=), oldest first; pass 'next' back as since");
        events.MapGet("/stream", Stream).Needs(Permission.Read).WithName("StreamEvents")
            .WithSummary("Server-Sent Events, live; resumes after the Last-Event-ID header (or ?since=)").Produces(200, contentType: "text/event-stream");

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

        var deployments = api.MapGroup("/models/{namespace}/{model}").WithTags("Deployments");
        deployments.MapPost("/versions/{selector}/deployments", RecordDeployment).Needs(Permission.Write).WithName("RecordDeployment")
            .WithSummary("Report that a version is deploying, live, retired or failed in an environment");
        deployments.MapGet("/deployments", ListDeployments).Needs(Permission.Read).WithName("ListDeployments")
            .WithSummary("Deployment records, newest first (?environment=&version=)");
        return api;
    }

    private static async Task<Ok<EventBatch>> Poll(HttpContext context, EventService events, long? since, string? @namespace, string? model, string[]? type, int? limit, CancellationToken cancellationToken)
    {
        var scope = await events.ResolveAsync(context.GetActor(), new EventQuery(since ?? 0, @namespace, model, type, limit), cancellationToken);
        return TypedResults.Ok(await events.ReadAsync(scope, since ?? 0, cancellationToken));
    }

    /// <summary>
    /// <c>id: &lt;event id&gt;</c>, <c>event: &lt;type&gt;</c>, <c>data: &lt;event JSON&gt;</c> per event. Browsers and the CLI
    /// reconnect with Last-Event-ID and continue after it; nothing committed in between is missed.
    /// </summary>
    private static async Task Stream(HttpContext context, EventService events, EventNotifier notifier, IOptions<EventStreamOptions> options, long? since, string? @namespace, string? model, string[]? type, CancellationToken cancellationToken)
    {
        var actor = context.GetActor();
        var settings = options.Value;
        var cursor = since ?? 0;
        if (long.TryParse(context.Request.Headers["Last-Event-ID"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var lastEventId))
        {
            cursor = lastEventId;
        }

        var scope = await events.ResolveAsync(actor, new EventQuery(cursor, @namespace, model, type, EventService.MaxLimit), cancellationToken);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.WriteAsync("retry: 2000\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);

        var lastWrite = DateTime.UtcNow;
        var lastCheck = DateTime.UtcNow;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var signal = notifier.Next;
                var batch = await events.ReadAsync(scope, cursor, cancellationToken);
                foreach (var item in batch.Items)
                {
                    await response.WriteAsync($"id: {item.Id.ToString(CultureInfo.InvariantCulture)}\nevent: {item.Type}\ndata: ", cancellationToken);
                    await JsonSerializer.SerializeAsync(response.Body, item, BerthJsonContext.Default.EventInfo, cancellationToken);
                    await response.WriteAsync("\n\n", cancellationToken);
                }

                cursor = batch.Next;
                if (batch.Items.Count > 0)
                {
                    await response.Body.FlushAsync(cancellationToken);
                    lastWrite = DateTime.UtcNow;
                    if (batch.Items.Count == EventService.MaxLimit)
                    {
                        continue;
                    }
                }
                else if (DateTime.UtcNow - lastWrite >= settings.Heartbeat)
                {
                    await response.WriteAsync(": keep-alive\n\n", cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    lastWrite = DateTime.UtcNow;
                }

                if (DateTime.UtcNow - lastCheck >= settings.AccessCheckInterval)
                {
                    // Roles change and users get disabled: a long-lived stream follows.
                    if (!await events.StillActiveAsync(actor, cancellationToken))
                    {
                        return;
                    }

                    scope = await events.RefreshAsync(actor, scope, cancellationToken);
                    lastCheck = DateTime.UtcNow;
                }

                await EventNotifier.WaitAsync(signal, Min(settings.PollInterval, settings.Heartbeat, settings.AccessCheckInterval), cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static TimeSpan Min(params TimeSpan[] values) => values.Min();

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

    private static async Task<Created<DeploymentInfo>> RecordDeployment(HttpContext context, DeploymentService deployments, string @namespace, string model, string selector, RecordDeploymentRequest request, CancellationToken cancellationToken)
    {
        var record = await deployments.RecordAsync(context.GetActor(), @namespace, model, selector, request, cancellationToken);
        return TypedResults.Created($"/api/v1/models/{@namespace}/{model}/deployments?environment={record.Environment}", record);
    }

    private static async Task<Ok<Page<DeploymentInfo>>> ListDeployments(DeploymentService deployments, string @namespace, string model, string? environment, string? version, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await deployments.ListAsync(@namespace, model, environment, version, new Paging(limit, cursor), cancellationToken));
}
