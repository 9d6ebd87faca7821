using Berth.Core.Configuration;
using Berth.Core.Uploads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Insight.Service;

/// <summary>
/// Reads committed versions off the request path: <see cref="InsightOptions.Workers"/> loops each take a version from
/// this server's <see cref="InsightQueue"/> or, every <see cref="InsightOptions.PollInterval"/>, from the pending rows in
/// the database (versions committed on other servers, or that did not fit in the queue), claim it under a lease (so one
/// server reads it), and read it. A server that dies mid-reading leaves its lease to run out; the version is then read
/// again, up to <see cref="InsightOptions.MaxAttempts"/> times.
/// </summary>
public sealed partial class InsightWorker(
    IServiceScopeFactory scopes,
    InsightQueue queue,
    ReplicaIdentity replica,
    IOptions<InsightOptions> options,
    ILogger<InsightWorker> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.Value.Workers).Select(i => Task.Run(() => LoopAsync(i, stoppingToken), stoppingToken)));

    private async Task LoopAsync(int worker, CancellationToken stoppingToken)
    {
        var owner = $"{replica.Id}/{worker}";
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var handed = await NextAsync(stoppingToken);
                if (handed is { } id)
                {
                    await ProcessAsync(id, owner, stoppingToken);
                    continue;
                }

                // Nothing handed over within a poll interval: look in the database.
                await RunOnceAsync(owner, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogLoopFailed(logger, e);
                await Task.Delay(options.Value.PollInterval, stoppingToken);
            }
        }
    }

    /// <summary>A version from the queue, or null after a poll interval without one.</summary>
    private async Task<long?> NextAsync(CancellationToken stoppingToken)
    {
        if (queue.Reader.TryRead(out var id))
        {
            return id;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        wait.CancelAfter(options.Value.PollInterval);
        try
        {
            return await queue.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Reads every pending version no server holds (tests call it to drain the queue deterministically).</summary>
    public async Task<int> RunOnceAsync(string owner, CancellationToken cancellationToken)
    {
        var done = 0;
        while (true)
        {
            List<long> due;
            await using (var scope = scopes.CreateAsyncScope())
            {
                due = await scope.ServiceProvider.GetRequiredService<InsightService>().DueAsync(16, cancellationToken);
            }

            var processed = 0;
            foreach (var id in due)
            {
                processed += await ProcessAsync(id, owner, cancellationToken) ? 1 : 0;
            }

            done += processed;
            if (due.Count < 16 || processed == 0)
            {
                return done;
            }
        }
    }

    /// <summary>Claims and reads one version; false when another worker has it.</summary>
    private async Task<bool> ProcessAsync(long versionId, string owner, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var service = scope.ServiceProvider.GetRequiredService<InsightService>();
        if (!await service.ClaimAsync(versionId, owner, cancellationToken))
        {
            return false;
        }

        string? state;
        try
        {
            state = await service.ProcessAsync(versionId, owner, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogReadFailed(logger, versionId, e);
            await using var retry = scopes.CreateAsyncScope();
            await retry.ServiceProvider.GetRequiredService<InsightService>().ReleaseAsync(versionId, owner, e.Message, cancellationToken);
            return true;
        }

        if (state is not null)
        {
            LogRead(logger, versionId, state);
            queue.RaiseCompleted(versionId, state);
        }

        return true;
    }

    [LoggerMessage(EventId = 1951, Level = LogLevel.Warning, Message = "The insight worker's loop failed; it goes on after a pause")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1952, Level = LogLevel.Warning, Message = "Reading version {VersionId} broke off; it is tried again later")]
    private static partial void LogReadFailed(ILogger logger, long versionId, Exception exception);

    [LoggerMessage(EventId = 1953, Level = LogLevel.Debug, Message = "Read version {VersionId}: {State}")]
    private static partial void LogRead(ILogger logger, long versionId, string state);
}
