using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Client;

public sealed partial class BerthClient
{
    // Events: polling and the live stream.

    /// <summary>Events after <paramref name="since"/> (0: from the beginning); pass <see cref="EventBatch.Next"/> back for the next call.</summary>
    public Task<EventBatch> ListEventsAsync(long since = 0, string? ns = null, string? model = null, IReadOnlyList<string>? types = null, int? limit = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, ApiPrefix + "events" + EventQuery(since, ns, model, types, limit), null, Json.EventBatch, cancellationToken);

    /// <summary>
    /// The live event stream (Server-Sent Events), starting after <paramref name="since"/>. A dropped connection is
    /// reopened after the last event received, so no event is missed or repeated; the enumeration ends only when
    /// <paramref name="cancellationToken"/> is cancelled or the server refuses the reader (an exception).
    /// </summary>
    public async IAsyncEnumerable<EventInfo> StreamEventsAsync(long since = 0, string? ns = null, string? model = null, IReadOnlyList<string>? types = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var cursor = since;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, ApiPrefix + "events/stream" + EventQuery(cursor, ns, model, types, null));
            request.Headers.Accept.ParseAdd("text/event-stream");
            request.Headers.Add("Last-Event-ID", cursor.ToString(CultureInfo.InvariantCulture));
            HttpResponseMessage response;
            try
            {
                response = await SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (failures < 10 && !cancellationToken.IsCancellationRequested)
            {
                // The server is restarting or unreachable for a moment: try again, backing off.
                await Task.Delay(TimeSpan.FromMilliseconds(250 * Math.Pow(2, failures++)), cancellationToken).ConfigureAwait(false);
                continue;
            }

            using (response)
            {
                var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                using var reader = new StreamReader(stream, Encoding.UTF8);
                var data = new StringBuilder();
                while (true)
                {
                    string? line;
                    try
                    {
                        line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }

                    if (line is null)
                    {
                        break;
                    }

                    if (line.Length == 0)
                    {
                        if (data.Length > 0)
                        {
                            var item = JsonSerializer.Deserialize(data.ToString(), Json.EventInfo) ?? throw new InvalidDataException("The server sent an empty event.");
                            data.Clear();
                            cursor = item.Id;
                            failures = 0;
                            yield return item;
                        }

                        continue;
                    }

                    if (line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        data.Append(line.AsSpan(line.StartsWith("data: ", StringComparison.Ordinal) ? 6 : 5));
                    }
                }
            }
        }
    }

    private static string EventQuery(long since, string? ns, string? model, IReadOnlyList<string>? types, int? limit)
    {
        var query = new StringBuilder("?since=").Append(since.ToString(CultureInfo.InvariantCulture));
        if (ns is not null)
        {
            query.Append("&namespace=").Append(Segment(ns));
        }

        if (model is not null)
        {
            query.Append("&model=").Append(Segment(model));
        }

        foreach (var type in types ?? [])
        {
            query.Append("&type=").Append(Segment(type));
        }

        if (limit is { } l)
        {
            query.Append("&limit=").Append(l.ToString(CultureInfo.InvariantCulture));
        }

        return query.ToString();
    }

    // Webhooks (namespace admins).

    public Task<WebhookInfo> CreateWebhookAsync(string ns, CreateWebhookRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ApiPrefix}namespaces/{Segment(ns)}/webhooks", request, Json.WebhookInfo, cancellationToken, WithIdempotencyKey());

    public IAsyncEnumerable<WebhookInfo> ListWebhooksAsync(string ns, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ApiPrefix}namespaces/{Segment(ns)}/webhooks", Json.PageWebhookInfo, cancellationToken);

    public Task<WebhookInfo> GetWebhookAsync(long id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}webhooks/{Id(id)}", null, Json.WebhookInfo, cancellationToken);

    public Task<WebhookInfo> UpdateWebhookAsync(long id, UpdateWebhookRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, $"{ApiPrefix}webhooks/{Id(id)}", request, Json.WebhookInfo, cancellationToken);

    public Task DeleteWebhookAsync(long id, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, $"{ApiPrefix}webhooks/{Id(id)}", null, cancellationToken);

    /// <summary>Sends a ping to the webhook now and answers with the attempt (status, latency, response excerpt).</summary>
    public Task<DeliveryInfo> TestWebhookAsync(long id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ApiPrefix}webhooks/{Id(id)}/test", null, Json.DeliveryInfo, cancellationToken);

    /// <summary>A webhook's deliveries, newest first; <paramref name="state"/>: pending, succeeded or failed.</summary>
    public IAsyncEnumerable<DeliveryInfo> ListDeliveriesAsync(long id, string? state = null, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ApiPrefix}webhooks/{Id(id)}/deliveries" + (state is null ? "" : $"?state={Segment(state)}"), Json.PageDeliveryInfo, cancellationToken);

    public Task<DeliveryInfo> GetDeliveryAsync(long deliveryId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}webhooks/deliveries/{Id(deliveryId)}", null, Json.DeliveryInfo, cancellationToken);

    public Task<DeliveryInfo> RedeliverAsync(long deliveryId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ApiPrefix}webhooks/deliveries/{Id(deliveryId)}/redeliver", null, Json.DeliveryInfo, cancellationToken);

    // Deployment records.

    public Task<DeploymentInfo> RecordDeploymentAsync(ModelReference reference, RecordDeploymentRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, VersionPath(reference) + "/deployments", request, Json.DeploymentInfo, cancellationToken);

    /// <summary>A model's deployment records, newest first; optionally one environment or one version (a selector).</summary>
    public IAsyncEnumerable<DeploymentInfo> ListDeploymentsAsync(string ns, string model, string? environment = null, string? version = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (environment is not null)
        {
            query.Add("environment=" + Segment(environment));
        }

        if (version is not null)
        {
            query.Add("version=" + Segment(version));
        }

        return PagesAsync(ModelPath(ns, model) + "/deployments" + (query.Count == 0 ? "" : "?" + string.Join('&', query)), Json.PageDeploymentInfo, cancellationToken);
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
