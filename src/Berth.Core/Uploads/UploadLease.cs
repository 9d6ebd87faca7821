using Berth.Core.Blobs;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Core.Uploads;

/// <summary>
/// A held upload writer lease (see <see cref="UploadLeases"/>). While held it renews itself every third of the lease
/// time on a database context of its own (the request's context is busy with the request). When renewing fails for so
/// long that the lease could lapse before the next attempt, or another owner took the row, <see cref="Lost"/> is
/// cancelled and the request must stop writing. Disposing stops renewing and deletes the row.
/// </summary>
public sealed class UploadLease : IAsyncDisposable
{
    private readonly UploadLeases _leases;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly AsyncServiceScope _scope;
    private readonly RegistryDbContext _db;
    private readonly string _name;
    private readonly Task _renewing;
    private DateTime _until;
    private bool _disposed;

    internal UploadLease(UploadLeases leases, UploadId id, string owner, DateTime until)
    {
        _leases = leases;
        Id = id;
        Owner = owner;
        _name = UploadLeases.Name(id);
        _until = until;
        _scope = leases.CreateScope();
        _db = _scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        _renewing = RenewAsync();
    }

    public UploadId Id { get; }

    public string Owner { get; }

    /// <summary>Cancelled when this request no longer (certainly) holds the upload.</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    private async Task RenewAsync()
    {
        var period = _leases.Duration / 3;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, _leases.Clock, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var now = _leases.Now;
            var until = now + _leases.Duration;
            try
            {
                var renewed = await _db.Leases.Where(l => l.Name == _name && l.Owner == Owner)
                    .ExecuteUpdateAsync(s => s.SetProperty(l => l.Until, until), _stop.Token);
                if (renewed == 1)
                {
                    _until = until;
                    continue;
                }

                // Someone else holds the row (or it was deleted as lapsed): this request is no longer the writer.
                UploadLeases.LogLost(_leases.Logger, Id.Value);
                await _lost.CancelAsync();
                return;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                UploadLeases.LogRenewFailed(_leases.Logger, Id.Value, e);
                if (_leases.Now + period >= _until)
                {
                    // The lease may run out before the next attempt: stop writing while it still holds.
                    UploadLeases.LogLost(_leases.Logger, Id.Value);
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
            await _db.Leases.Where(l => l.Name == _name && l.Owner == Owner).ExecuteDeleteAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            // The row lapses at its expiry; garbage collection and upload expiry delete it then.
            UploadLeases.LogReleaseFailed(_leases.Logger, Id.Value, e);
        }

        _leases.Released(Owner);
        await _scope.DisposeAsync();
        _stop.Dispose();
        _lost.Dispose();
    }
}
