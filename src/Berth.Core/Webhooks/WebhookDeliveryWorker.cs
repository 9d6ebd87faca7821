using System.Threading.Channels;
using Berth.Contracts.Dtos;
using Berth.Core.Audit;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Webhooks;

/// <summary>
/// Sends due webhook deliveries. A delivery is claimed by writing a lease on it with a conditional update that only
/// one replica can win, so no two replicas make the same attempt; a lease outlives the attempt's timeout, so a
/// replica that dies mid-attempt only delays the delivery until the lease runs out. Attempts run concurrently (a
/// receiver that hangs holds one slot until its timeout, not the others); failures are retried with exponential
/// backoff and jitter; a delivery out of attempts is failed, and a webhook whose deliveries keep failing is
/// disabled with a <c>webhook.disabled</c> event. Outcomes are recorded in batches (one transaction for all the
/// attempts that finished meanwhile), so the database does one write per batch, not one per delivery.
/// </summary>
public sealed partial class WebhookDeliveryWorker(
    IServiceScopeFactory scopes,
    WebhookSender sender,
    EventNotifier notifier,
    LocalDeliveries local,
    IOptions<WebhookOptions> options,
    TimeProvider clock,
    ILogger<WebhookDeliveryWorker> logger) : BackgroundService
{
    private readonly WebhookOptions _options = options.Value;
    private const int MaxRecordBatch = 500;
    private readonly Channel<(WebhookDelivery Claimed, AttemptResult Result)> _outcomes =
        Channel.CreateUnbounded<(WebhookDelivery, AttemptResult)>(new UnboundedChannelOptions { SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.DeliveryEnabled)
        {
            return;
        }

        var slots = new SemaphoreSlim(_options.Concurrency, _options.Concurrency);
        var running = new HashSet<Task>();
        var recorder = Task.Run(RecordOutcomesAsync, CancellationToken.None);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var signal = notifier.Next;
                await slots.WaitAsync(stoppingToken);
                var free = 1;
                while (free < _options.Concurrency && slots.Wait(0, CancellationToken.None))
                {
                    free++;
                }

                List<WebhookDelivery> claimed;
                try
                {
                    // This server's own fresh deliveries first (already leased to it), then due ones from the database.
                    claimed = await TakeLocalAsync(free, stoppingToken);
                    if (claimed.Count < free)
                    {
                        claimed.AddRange(await ClaimAsync(free - claimed.Count, stoppingToken));
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogClaimFailed(logger, e);
                    slots.Release(free);
                    await EventNotifier.WaitAsync(signal, _options.PollInterval, stoppingToken);
                    continue;
                }

                if (free > claimed.Count)
                {
                    slots.Release(free - claimed.Count);
                }

                foreach (var delivery in claimed)
                {
                    var task = Task.Run(() => AttemptAsync(delivery, stoppingToken), CancellationToken.None);
                    lock (running)
                    {
                        running.Add(task);
                    }

                    _ = task.ContinueWith(t =>
                    {
                        slots.Release();
                        lock (running)
                        {
                            running.Remove(t);
                        }
                    }, TaskScheduler.Default);
                }

                if (claimed.Count < free)
                {
                    // Nothing more is due: sleep until a local commit, a retry falls due, or the poll interval.
                    await EventNotifier.WaitAsync(signal, await UntilNextDueAsync(stoppingToken), stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        Task[] pending;
        lock (running)
        {
            pending = [.. running];
        }

        await Task.WhenAll(pending);
        _outcomes.Writer.Complete();
        await recorder;
    }

    /// <summary>
    /// Deliveries this server's commits leased to it. One whose lease would run out before an attempt could time out
    /// is left alone: the lease expires and it is claimed from the database like any other.
    /// </summary>
    private async Task<List<WebhookDelivery>> TakeLocalAsync(int count, CancellationToken cancellationToken)
    {
        var ids = local.Take(count);
        if (ids.Count == 0)
        {
            return [];
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var latestStart = clock.GetUtcNow().UtcDateTime + _options.Timeout;
        return await db.WebhookDeliveries.AsNoTracking()
            .Include(d => d.Webhook).ThenInclude(w => w.Namespace)
            .Include(d => d.Event)
            .Where(d => ids.Contains(d.Id) && d.State == DeliveryStates.Pending && d.LeaseOwner == local.ReplicaId && d.LeaseUntil > latestStart && d.Webhook.Enabled)
            .ToListAsync(cancellationToken);
    }

    /// <summary>Claims up to <paramref name="count"/> due deliveries for this replica.</summary>
    private async Task<List<WebhookDelivery>> ClaimAsync(int count, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var candidates = await Due(db, now).OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(count).ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            return [];
        }

        // One conditional update: a delivery another replica leased in the meantime no longer matches, so it is not taken.
        var token = Guid.NewGuid();
        var until = local.LeaseUntil(now);
        await Due(db, now).Where(d => candidates.Contains(d.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseOwner, token).SetProperty(d => d.LeaseUntil, until), cancellationToken);
        return await db.WebhookDeliveries.AsNoTracking()
            .Include(d => d.Webhook).ThenInclude(w => w.Namespace)
            .Include(d => d.Event)
            .Where(d => d.LeaseOwner == token)
            .ToListAsync(cancellationToken);
    }

    private static IQueryable<WebhookDelivery> Due(RegistryDbContext db, DateTime now) =>
        db.WebhookDeliveries.Where(d => d.State == DeliveryStates.Pending && d.NextAttemptAt <= now && (d.LeaseUntil == null || d.LeaseUntil < now) && d.Webhook.Enabled);

    /// <summary>
    /// How long until the next delivery falls due, at most the poll interval. When the database cannot tell (it is
    /// down or restarting), the poll interval: the worker must outlive an outage, and an exception escaping it would
    /// stop the whole server.
    /// </summary>
    private async Task<TimeSpan> UntilNextDueAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await NextDueDelayAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogClaimFailed(logger, e);
            return _options.PollInterval;
        }
    }

    private async Task<TimeSpan> NextDueDelayAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var next = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.State == DeliveryStates.Pending && d.Webhook.Enabled)
            .Select(d => d.LeaseUntil != null && d.LeaseUntil > d.NextAttemptAt ? d.LeaseUntil : d.NextAttemptAt)
            .OrderBy(t => t)
            .FirstOrDefaultAsync(cancellationToken);
        var wait = next is { } due ? due - clock.GetUtcNow().UtcDateTime : _options.PollInterval;
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > _options.PollInterval ? _options.PollInterval : wait;
    }

    private async Task AttemptAsync(WebhookDelivery delivery, CancellationToken stoppingToken)
    {
        try
        {
            var info = delivery.Event is { } e ? EventService.ToInfo(e) : throw new InvalidOperationException($"Delivery {delivery.Id} has no event.");
            var result = await sender.SendAsync(delivery.Webhook, delivery.Id, info, stoppingToken);
            _outcomes.Writer.TryWrite((delivery, result));
            if (!result.Succeeded)
            {
                LogAttempt(logger, delivery.Id, delivery.Webhook.Url, result.Status, result.Error, result.Detail);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the lease runs out and a replica (or this one, restarted) makes the attempt again.
        }
        catch (Exception e)
        {
            LogAttemptFailed(logger, delivery.Id, e);
        }
    }

    /// <summary>Writes finished attempts as they come, many per transaction, until the worker stops.</summary>
    private async Task RecordOutcomesAsync()
    {
        var reader = _outcomes.Reader;
        var batch = new List<(WebhookDelivery Claimed, AttemptResult Result)>(MaxRecordBatch);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < MaxRecordBatch && reader.TryRead(out var outcome))
            {
                batch.Add(outcome);
            }

            try
            {
                await RecordAsync(batch, CancellationToken.None);
            }
            catch (Exception e)
            {
                // Not recorded: the leases run out and the deliveries are attempted again (at least once, never lost).
                LogRecordFailed(logger, batch.Count, e);
            }

            batch.Clear();
        }
    }

    /// <summary>Records attempts and the deliveries' next states; a failed delivery may disable its webhook.</summary>
    private async Task RecordAsync(List<(WebhookDelivery Claimed, AttemptResult Result)> batch, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        scope.ServiceProvider.GetRequiredService<AuditContext>().Set(Auth.Actor.System, null, null);
        var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
        var events = scope.ServiceProvider.GetRequiredService<EventLog>();
        var ids = batch.Select(b => b.Claimed.Id).ToList();
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var rows = await db.WebhookDeliveries.Where(d => ids.Contains(d.Id)).ToDictionaryAsync(d => d.Id, ct);
            var now = clock.GetUtcNow().UtcDateTime;
            var succeeded = new HashSet<long>();
            foreach (var (claimed, result) in batch)
            {
                if (!rows.TryGetValue(claimed.Id, out var delivery) || delivery.LeaseOwner != claimed.LeaseOwner)
                {
                    // The lease ran out and another replica took the delivery over; its attempt counts.
                    continue;
                }

                delivery.AttemptCount++;
                db.WebhookAttempts.Add(result.ToEntity(delivery.Id, delivery.AttemptCount));
                delivery.LastStatus = result.Status;
                delivery.LeaseOwner = null;
                delivery.LeaseUntil = null;
                if (result.Succeeded)
                {
                    delivery.State = DeliveryStates.Succeeded;
                    delivery.CompletedAt = now;
                    delivery.NextAttemptAt = null;
                    succeeded.Add(delivery.WebhookId);
                }
                else if (delivery.AttemptCount >= _options.MaxAttempts)
                {
                    delivery.State = DeliveryStates.Failed;
                    delivery.CompletedAt = now;
                    delivery.NextAttemptAt = null;
                    await CountFailureAsync(db, audit, events, claimed.Webhook, ct);
                }
                else
                {
                    delivery.NextAttemptAt = now + Backoff(delivery.AttemptCount);
                }
            }

            if (succeeded.Count > 0)
            {
                // A success ends a run of failures.
                await db.Webhooks.Where(w => succeeded.Contains(w.Id) && w.ConsecutiveFailures > 0)
                    .ExecuteUpdateAsync(s => s.SetProperty(w => w.ConsecutiveFailures, 0), ct);
            }

            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
    }

    private async Task CountFailureAsync(RegistryDbContext db, AuditTrail audit, EventLog events, Webhook hook, CancellationToken ct)
    {
        await db.Webhooks.Where(w => w.Id == hook.Id).ExecuteUpdateAsync(s => s.SetProperty(w => w.ConsecutiveFailures, w => w.ConsecutiveFailures + 1), ct);
        var failures = await db.Webhooks.Where(w => w.Id == hook.Id).Select(w => new { w.ConsecutiveFailures, w.Enabled }).SingleAsync(ct);
        if (!failures.Enabled || failures.ConsecutiveFailures < _options.DisableAfterFailures)
        {
            return;
        }

        var reason = $"{failures.ConsecutiveFailures} deliveries in a row failed after {_options.MaxAttempts} attempts each";
        await db.Webhooks.Where(w => w.Id == hook.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(w => w.Enabled, false).SetProperty(w => w.DisabledReason, reason).SetProperty(w => w.Revision, w => w.Revision + 1), ct);
        audit.Record("webhook.disable", hook.Namespace.Name, $"webhook #{hook.Id}", new Dictionary<string, object?> { ["reason"] = reason, ["url"] = hook.Url });
        events.Publish(EventTypes.WebhookDisabled, EventSubject.Of(hook.Namespace), data: new Dictionary<string, object?>
        {
            ["webhook"] = hook.Id,
            ["url"] = hook.Url,
            ["reason"] = reason,
        });
        LogDisabled(logger, hook.Id, hook.Url, reason);
    }

    /// <summary>RetryDelay × 2^(n−1), capped, times a random factor in [0.8, 1.2): retries of many deliveries spread out.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var exponential = _options.RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 30));
        var capped = Math.Min(exponential, _options.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + (0.4 * Random.Shared.NextDouble())));
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Claiming webhook deliveries failed; retrying")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Webhook delivery {DeliveryId} could not be attempted")]
    private static partial void LogAttemptFailed(ILogger logger, long deliveryId, Exception exception);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Webhook delivery {DeliveryId} to {Url} failed: status {Status}, {Error}: {Detail}")]
    private static partial void LogAttempt(ILogger logger, long deliveryId, string url, int? status, string? error, string? detail);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Error, Message = "Recording {Count} webhook attempts failed; their deliveries are attempted again when their leases run out")]
    private static partial void LogRecordFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Webhook {WebhookId} ({Url}) disabled: {Reason}")]
    private static partial void LogDisabled(ILogger logger, long webhookId, string url, string reason);
}
