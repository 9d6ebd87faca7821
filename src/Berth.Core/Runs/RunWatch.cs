using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Runs;

/// <summary>
/// Every <see cref="RunOptions.WatchInterval"/>, marks <c>crashed</c> the running runs that sent no heartbeat (nor
/// metric batch) for <see cref="RunOptions.HeartbeatTimeout"/>, so a job killed with SIGKILL leaves no run running
/// forever; each gets a <c>run.finished</c> event with status <c>crashed</c>. Each run is ended under its row lock
/// and only if it still is running and stale, so replicas watching at the same time end it once.
/// </summary>
public sealed partial class RunWatch(IServiceScopeFactory scopes, IOptions<RunOptions> options, TimeProvider clock, ILogger<RunWatch> logger) : BackgroundService
{
    /// <summary>Raised after every pass with how many runs it ended (tests wait on it instead of polling).</summary>
    public event Action<int>? Completed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // One-shot delays, each started before the pass it times, rather than a PeriodicTimer: the same fixed rate,
        // but a clock that jumps (a test's fake clock advanced by days) wakes it once, where a periodic timer ticks
        // once per interval skipped.
        var next = Task.Delay(options.Value.WatchInterval, clock, stoppingToken);
        while (true)
        {
            await next;
            next = Task.Delay(options.Value.WatchInterval, clock, stoppingToken);
            try
            {
                // Not Completed?.Invoke(await RunOnceAsync(...)): with no subscriber, ?. skips its argument too, and
                // the pass would run only in the tests that listen.
                var ended = await RunOnceAsync(stoppingToken);
                Completed?.Invoke(ended);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e);
            }
        }
    }

    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var runs = scope.ServiceProvider.GetRequiredService<RunService>();
        var now = clock.GetUtcNow().UtcDateTime;
        var cutoff = now - options.Value.HeartbeatTimeout;
        var stale = await db.Runs.AsNoTracking().Where(r => r.Status == RunStatus.Running && r.HeartbeatAt < cutoff)
            .OrderBy(r => r.HeartbeatAt).Select(r => r.Id).Take(500).ToListAsync(cancellationToken);
        var ended = 0;
        foreach (var id in stale)
        {
            var done = await db.InTransactionWithRetryAsync(async ct =>
            {
                var run = await db.LockedRow<Run>(id).Include(r => r.Model).ThenInclude(m => m.Namespace).SingleAsync(ct);
                if (run.Status != RunStatus.Running || run.HeartbeatAt >= cutoff)
                {
                    return false;
                }

                runs.End(run, RunStatus.Crashed, now);
                await db.SaveChangesAsync(ct);
                return true;
            }, cancellationToken);
            db.ChangeTracker.Clear();
            if (done)
            {
                ended++;
                LogCrashed(logger, id);
            }
        }

        return ended;
    }

    [LoggerMessage(EventId = 1901, Level = LogLevel.Warning, Message = "Marking stale runs as crashed failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1902, Level = LogLevel.Information, Message = "Run {RunId} sent no heartbeat in time: crashed")]
    private static partial void LogCrashed(ILogger logger, long runId);
}
