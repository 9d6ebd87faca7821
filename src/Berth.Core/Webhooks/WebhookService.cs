using System.Security.Cryptography;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Events;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Webhooks;

/// <summary>
/// Webhook subscriptions (namespace admins manage them) and their deliveries: listing, manual redelivery and test
/// pings. Deliveries themselves are queued by the outbox and sent by <see cref="WebhookDeliveryWorker"/>.
/// </summary>
public sealed class WebhookService(
    RegistryDbContext db,
    ModelLookup lookup,
    AccessControl access,
    AddressPolicy addresses,
    WebhookSender sender,
    WebhookSecrets secrets,
    EventNotifier notifier,
    AuditTrail audit,
    TimeProvider clock)
{
    public const int MinSecretLength = 16;
    public const int MaxSecretLength = 256;

    public async Task<WebhookInfo> CreateAsync(Actor actor, string ns, CreateWebhookRequest request, CancellationToken cancellationToken)
    {
        var space = await lookup.GetNamespaceAsync(ns, cancellationToken);
        var url = await ValidateUrlAsync(request.Url, cancellationToken);
        var events = ValidateEvents(request.Events);
        var modelId = await ModelIdAsync(space, request.Model, cancellationToken);
        CheckDescription(request.Description);
        var generated = request.Secret is null;
        var secret = request.Secret ?? "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        CheckSecret(secret);

        var hook = new Webhook
        {
            NamespaceId = space.Id,
            Url = url,
            Events = events,
            ModelId = modelId,
            Description = request.Description,
            ProtectedSecret = secrets.Protect(secret),
            Enabled = true,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            CreatedById = actor.UserId,
            Revision = 1,
        };
        await db.InTransactionWithRetryAsync(async ct =>
        {
            db.Webhooks.Add(hook);
            await db.SaveChangesAsync(ct);
            audit.Record("webhook.create", ns, $"webhook #{hook.Id}", new Dictionary<string, object?> { ["url"] = url, ["events"] = events, ["model"] = request.Model });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        var info = await GetAsync(actor, hook.Id, cancellationToken);
        return generated ? info with { Secret = secret } : info;
    }

    public async Task<Page<WebhookInfo>> ListAsync(string ns, Paging paging, CancellationToken cancellationToken)
    {
        var space = await lookup.GetNamespaceAsync(ns, cancellationToken);
        var after = paging.AfterId();
        var rows = await Query().Where(w => w.NamespaceId == space.Id && w.Id > after).OrderBy(w => w.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, w => w.Id);
        return new Page<WebhookInfo>(page.Items.Select(ToInfo).ToList(), page.NextCursor);
    }

    public async Task<WebhookInfo> GetAsync(Actor actor, long id, CancellationToken cancellationToken) =>
        ToInfo(await LoadAsync(actor, id, tracking: false, cancellationToken));

    public async Task<WebhookInfo> UpdateAsync(Actor actor, long id, UpdateWebhookRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        var url = request.Url is null ? null : await ValidateUrlAsync(request.Url, cancellationToken);
        var events = request.Events is null ? null : ValidateEvents(request.Events);
        CheckDescription(request.Description);
        if (request.Secret is not null)
        {
            CheckSecret(request.Secret);
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            var hook = await LoadAsync(actor, id, tracking: true, ct);
            Revisions.Check(expectedRevision, hook.Revision, $"Webhook #{id}");
            var before = Describe(hook);
            hook.Url = url ?? hook.Url;
            hook.Events = events ?? hook.Events;
            if (request.Secret is not null)
            {
                hook.ProtectedSecret = secrets.Protect(request.Secret);
                hook.LegacySecret = null;
            }

            if (request.Model is not null)
            {
                hook.ModelId = request.Model.Length == 0 ? null : await ModelIdAsync(hook.Namespace, request.Model, ct);
            }

            if (request.Description is not null)
            {
                hook.Description = request.Description.Length == 0 ? null : request.Description;
            }

            if (request.Enabled is { } enabled && enabled != hook.Enabled)
            {
                hook.Enabled = enabled;
                hook.DisabledReason = enabled ? null : $"disabled by {actor.Name}";
                hook.ConsecutiveFailures = 0;
            }

            hook.Revision++;
            audit.Record("webhook.update", hook.Namespace.Name, $"webhook #{id}", new Dictionary<string, object?>
            {
                ["before"] = before,
                ["after"] = Describe(hook),
                ["secretChanged"] = request.Secret is not null,
            });
            await Revisions.SaveAsync(db, $"Webhook #{id}", ct);
            return true;
        }, cancellationToken);
        return await GetAsync(actor, id, cancellationToken);
    }

    /// <summary>Deletes a webhook with its deliveries and their attempts.</summary>
    public async Task DeleteAsync(Actor actor, long id, CancellationToken cancellationToken)
    {
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var hook = await LoadAsync(actor, id, tracking: true, ct);
            audit.Record("webhook.delete", hook.Namespace.Name, $"webhook #{id}", new Dictionary<string, object?> { ["url"] = hook.Url });
            db.Webhooks.Remove(hook);
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>A webhook's deliveries, newest first (optionally one state).</summary>
    public async Task<Page<DeliveryInfo>> DeliveriesAsync(Actor actor, long id, string? state, Paging paging, CancellationToken cancellationToken)
    {
        await LoadAsync(actor, id, tracking: false, cancellationToken);
        if (state is not null && state is not (DeliveryStates.Pending or DeliveryStates.Succeeded or DeliveryStates.Failed))
        {
            Fail.With(ErrorCodes.InvalidRequest, $"Unknown delivery state '{Names.Show(state)}': use pending, succeeded or failed.");
        }

        var before = paging.Parts is null ? long.MaxValue : paging.AfterId();
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == id && d.Id < before);
        if (state is not null)
        {
            query = query.Where(d => d.State == state);
        }

        var rows = await query.OrderByDescending(d => d.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, d => d.Id);
        return new Page<DeliveryInfo>(page.Items.Select(d => ToInfo(d, null, actor.IsAdmin)).ToList(), page.NextCursor);
    }

    public async Task<DeliveryInfo> GetDeliveryAsync(Actor actor, long deliveryId, CancellationToken cancellationToken)
    {
        var delivery = await db.WebhookDeliveries.AsNoTracking().Include(d => d.Attempts).FirstOrDefaultAsync(d => d.Id == deliveryId, cancellationToken)
            ?? throw NoDelivery(deliveryId);
        await LoadAsync(actor, delivery.WebhookId, tracking: false, cancellationToken, () => NoDelivery(deliveryId));
        return ToInfo(delivery, delivery.Attempts, actor.IsAdmin);
    }

    /// <summary>Queues the same event for the same webhook again, as a new delivery with its own attempts.</summary>
    public async Task<DeliveryInfo> RedeliverAsync(Actor actor, long deliveryId, CancellationToken cancellationToken)
    {
        var original = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId, cancellationToken)
            ?? throw NoDelivery(deliveryId);
        var hook = await LoadAsync(actor, original.WebhookId, tracking: false, cancellationToken, () => NoDelivery(deliveryId));
        if (original.EventId is null)
        {
            Fail.With(ErrorCodes.Conflict, $"Delivery #{deliveryId} is a test ping; send a new one with 'berth webhook test {hook.Id}'.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var copy = new WebhookDelivery
        {
            WebhookId = original.WebhookId,
            EventId = original.EventId,
            EventType = original.EventType,
            State = DeliveryStates.Pending,
            CreatedAt = now,
            NextAttemptAt = now,
            RedeliveryOf = original.Id,
        };
        await db.InTransactionWithRetryAsync(async ct =>
        {
            db.WebhookDeliveries.Add(copy);
            audit.Record("webhook.redeliver", hook.Namespace.Name, $"webhook #{hook.Id}", new Dictionary<string, object?> { ["delivery"] = deliveryId, ["event"] = original.EventId });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        notifier.Pulse();
        return ToInfo(copy, null, actor.IsAdmin);
    }

    /// <summary>
    /// Sends a <c>ping</c> event now, once, and answers with the attempt (kept with the webhook's deliveries): its status,
    /// latency and error category; the receiver's answer and the error's message only to server administrators.
    /// </summary>
    public async Task<DeliveryInfo> TestAsync(Actor actor, long id, CancellationToken cancellationToken)
    {
        var hook = await LoadAsync(actor, id, tracking: false, cancellationToken);
        var now = clock.GetUtcNow();
        var delivery = new WebhookDelivery { WebhookId = id, EventType = EventTypes.Ping, State = DeliveryStates.Pending, CreatedAt = now.UtcDateTime };
        db.WebhookDeliveries.Add(delivery);
        await db.SaveChangesAsync(cancellationToken);

        var ping = new EventInfo(0, EventTypes.Ping, now, actor.Name, hook.Namespace.Name, null, null, null, null, null);
        var attempt = await sender.SendAsync(hook, delivery.Id, ping, cancellationToken);
        delivery.Attempts.Add(attempt.ToEntity(delivery.Id, 1));
        delivery.AttemptCount = 1;
        delivery.LastStatus = attempt.Status;
        delivery.State = attempt.Succeeded ? DeliveryStates.Succeeded : DeliveryStates.Failed;
        delivery.CompletedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
        return ToInfo(delivery, delivery.Attempts, actor.IsAdmin);
    }

    private IQueryable<Webhook> Query() => db.Webhooks.AsNoTracking().Include(w => w.Namespace).Include(w => w.Model).Include(w => w.CreatedBy);

    /// <summary>Loads a webhook and demands the admin role in its namespace (404 first, so ids do not leak across namespaces only by status).</summary>
    /// <summary>
    /// The webhook, for a namespace admin. A caller who may not see its namespace gets <paramref name="hidden"/>
    /// (default: the answer for a webhook id that does not exist), so ids never reveal namespaces.
    /// </summary>
    private async Task<Webhook> LoadAsync(Actor actor, long id, bool tracking, CancellationToken cancellationToken, Func<RegistryException>? hidden = null)
    {
        hidden ??= () => Fail.Error(ErrorCodes.WebhookNotFound, $"There is no webhook #{id}.");
        var query = tracking ? db.Webhooks.Include(w => w.Namespace).Include(w => w.Model).Include(w => w.CreatedBy) : Query();
        var hook = await query.FirstOrDefaultAsync(w => w.Id == id, cancellationToken) ?? throw hidden();
        await access.DemandAsync(actor, Permission.Admin, hook.Namespace.Name, hidden, cancellationToken);
        return hook;
    }

    private static RegistryException NoDelivery(long deliveryId) => Fail.Error(ErrorCodes.DeliveryNotFound, $"There is no delivery #{deliveryId}.");

    private async Task<string> ValidateUrlAsync(string? text, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 2048 || !Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw Fail.Error(ErrorCodes.InvalidWebhookUrl, $"'{Names.Show(text ?? "")}' is not an absolute http or https URL (at most 2048 characters).");
        }

        if (uri.UserInfo.Length > 0)
        {
            Fail.With(ErrorCodes.InvalidWebhookUrl, "A webhook URL may not carry a user name or password; receivers authenticate calls with the signature.");
        }

        if (WebhookHost.Parse(uri.IdnHost) is not { } host)
        {
            throw Fail.Error(ErrorCodes.InvalidWebhookUrl, $"'{Names.Show(uri.Host)}' looks like an IP address but is not one.");
        }

        try
        {
            await addresses.ResolveAsync(host, cancellationToken);
        }
        catch (WebhookAddressException e)
        {
            Fail.With(ErrorCodes.ForbiddenAddress, $"Webhooks may not call {Names.Show(uri.Host)}: {e.PublicMessage}.");
        }

        return uri.AbsoluteUri;
    }

    private static string ValidateEvents(IReadOnlyList<string>? events)
    {
        if (events is { Count: > 0 } && WebhookEvents.FirstUnknown(events) is { } unknown)
        {
            Fail.With(ErrorCodes.InvalidEventType, $"'{Names.Show(unknown)}' is not an event type; the types are: {string.Join(", ", EventTypes.All)} (or * for all).");
        }

        return WebhookEvents.Format(events);
    }

    private async Task<long?> ModelIdAsync(RegistryNamespace space, string? model, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(model))
        {
            return null;
        }

        // "fraud" or "acme/fraud" (the namespace must be the webhook's).
        var slash = model.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0 && model[..slash] != space.Name)
        {
            Fail.With(ErrorCodes.InvalidReference, $"Model '{Names.Show(model)}' is not in namespace '{space.Name}'.");
        }

        var entity = await lookup.GetModelAsync(space.Name, slash >= 0 ? model[(slash + 1)..] : model, cancellationToken);
        return entity.Id;
    }

    private static void CheckSecret(string secret)
    {
        if (secret.Length is < MinSecretLength or > MaxSecretLength)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"A webhook secret needs {MinSecretLength} to {MaxSecretLength} characters (omit it to have one generated).");
        }
    }

    private static void CheckDescription(string? description)
    {
        if (description is { Length: > 1024 })
        {
            Fail.With(ErrorCodes.InvalidRequest, "The description is longer than 1024 characters.");
        }
    }

    private static Dictionary<string, object?> Describe(Webhook hook) => new()
    {
        ["url"] = hook.Url,
        ["events"] = hook.Events,
        ["model"] = hook.ModelId,
        ["enabled"] = hook.Enabled,
    };

    public static WebhookInfo ToInfo(Webhook w) => new(
        w.Id,
        w.Namespace.Name,
        w.Url,
        WebhookEvents.Parse(w.Events),
        w.Model is null ? null : $"{w.Namespace.Name}/{w.Model.Name}",
        w.Description,
        w.Enabled,
        w.DisabledReason,
        w.ConsecutiveFailures,
        DtoMapper.Utc(w.CreatedAt),
        w.CreatedBy.Name);

    /// <param name="revealed">
    /// True for server administrators: attempts carry the receiver's answer and the error's message. Others see the
    /// status, latency and error category only, so a webhook cannot read a service that only the server can reach, nor
    /// learn about the server's network from the socket's messages.
    /// </param>
    public static DeliveryInfo ToInfo(WebhookDelivery d, IEnumerable<WebhookAttempt>? attempts, bool revealed) => new(
        d.Id,
        d.WebhookId,
        d.EventId,
        d.EventType,
        d.State,
        d.AttemptCount,
        DtoMapper.Utc(d.CreatedAt),
        d.State == DeliveryStates.Pending ? DtoMapper.Utc(d.NextAttemptAt) : null,
        DtoMapper.Utc(d.CompletedAt),
        d.LastStatus,
        d.RedeliveryOf,
        attempts?.OrderBy(a => a.Number).Select(a => new DeliveryAttemptInfo(
            a.Number, DtoMapper.Utc(a.StartedAt), a.DurationMs, a.Status, a.Error, revealed ? a.Response : null, revealed ? a.Detail : null)).ToList());
}
