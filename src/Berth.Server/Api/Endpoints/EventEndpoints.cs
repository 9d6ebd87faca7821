using System.Globalization;
using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Core.Auth;
using Berth.Core.Configuration;
using Berth.Core.Events;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Berth.Server.Api.Endpoints;

/// <summary>The event stream (Server-Sent Events) and the polling endpoint.</summary>
internal static class EventEndpoints
{
    public static RouteGroupBuilder MapEvents(this RouteGroupBuilder api)
    {
        var events = api.MapGroup("/events").WithTags("Events");
        events.MapGet("/", Poll).Needs(Permission.Read).WithName("ListEvents")
            .WithSummary("Events after a cursor (?since=<id>&namespace=&model=&type=), oldest first; pass 'next' back as since");
        events.MapGet("/stream", Stream).Needs(Permission.Read).WithName("StreamEvents")
            .WithSummary("Server-Sent Events, live; resumes after the Last-Event-ID header (or ?since=)").Produces(200, contentType: "text/event-stream");

        return api;
    }

    private static async Task<Ok<EventBatch>> Poll(HttpContext context, EventService events, long? since, string? @namespace, string? model, [FromQuery] string[]? type, int? limit, CancellationToken cancellationToken)
    {
        var scope = await events.ResolveAsync(context.GetActor(), new EventQuery(since ?? 0, @namespace, model, type, limit), cancellationToken);
        return TypedResults.Ok(await events.ReadAsync(scope, since ?? 0, cancellationToken));
    }

    /// <summary>
    /// <c>id: &lt;event id&gt;</c>, <c>event: &lt;type&gt;</c>, <c>data: &lt;event JSON&gt;</c> per event. Browsers and the CLI
    /// reconnect with Last-Event-ID and continue after it; nothing committed in between is missed.
    /// </summary>
    private static async Task Stream(HttpContext context, EventService events, EventNotifier notifier, IOptions<EventStreamOptions> options, long? since, string? @namespace, string? model, [FromQuery] string[]? type, CancellationToken cancellationToken)
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
}
