using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Core.Leases;

/// <summary>
/// A <c>leases</c> row this process holds (claimed with <see cref="LeaseClaim"/>): an upload's writer lease, or the
/// garbage collector's. While held it renews itself every third of the lease time on a database context of its own (the
/// holder's context is busy with the work the lease guards). When renewing fails for so long that the lease could lapse
/// before the next attempt, or another owner took the row, <see cref="Lost"/> is cancelled and the holder must stop.
/// Disposing stops renewing and deletes the row.
/// </summary>
public sealed partial class HeldLease : IAsyncDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _duration;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Action? _released;
    private readonly AsyncServiceScope _scope;
    private readonly RegistryDbContext _db;
    private readonly Task _renewing;
    private DateTime _until;
    private bool _disposed;

    /// <param name="released">Called once the row is gone (or left to lapse).</param>
    public HeldLease(string name, string owner, DateTime until, TimeSpan duration, IServiceScopeFactory scopes, TimeProvider clock, ILogger logger, Action? released = null)
    {
        Name = name;
        Owner = owner;
        _until = until;
        _duration = duration;
        _clock = clock;
        _logger = logger;
        _released = released;
        _scope = scopes.CreateAsyncScope();
        _db = _scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        _renewing = RenewAsync();
    }

    public string Name { get; }

    public string Owner { get; }

    /// <summary>Cancelled when this process no longer (certainly) holds the lease.</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    private DateTime Now => _clock.GetUtcNow().UtcDateTime;

    private async Task RenewAsync()
    {
        var period = _duration / 3;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, _clock, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var until = Now + _duration;
            try
            {
                var renewed = await _db.Leases.Where(l => l.Name == Name && l.Owner == Owner)
                    .ExecuteUpdateAsync(s => s.SetProperty(l => l.Until, until), _stop.Token);
                if (renewed == 1)
                {
                    _until = until;
                    continue;
                }

                // Someone else holds the row (or it was deleted as lapsed): this process no longer holds the lease.
                LogLost(_logger, Name);
                await _lost.CancelAsync();
                return;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogRenewFailed(_logger, Name, e);
                if (Now + period >= _until)
                {
                    // The lease may run out before the next attempt: stop while it still holds.
                    LogLost(_logger, Name);
                    await _lost.CancelAsync();
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        await _renewing;
        try
        {
            await _db.Leases.Where(l => l.Name == Name && l.Owner == Owner).ExecuteDeleteAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            // The row lapses at its expiry; the next claim takes it then.
            LogReleaseFailed(_logger, Name, e);
        }

        _released?.Invoke();
        await _scope.DisposeAsync();
        _stop.Dispose();
        _lost.Dispose();
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Could not renew the lease {Lease}")]
    private static partial void LogRenewFailed(ILogger logger, string lease, Exception exception);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Lost the lease {Lease}; the work it guards stops")]
    private static partial void LogLost(ILogger logger, string lease);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "Could not release the lease {Lease}; it lapses by itself")]
    private static partial void LogReleaseFailed(ILogger logger, string lease, Exception exception);
}
