using System.Collections.Concurrent;
using System.Security.Cryptography;
using Berth.Core.Blobs;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Leases;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Uploads;

/// <summary>
/// One writer per upload across every replica: a request that writes to an upload (append, finish, cancel) first
/// claims the <c>upload:&lt;id&gt;</c> row of <c>leases</c> for <see cref="RegistryOptions.UploadWriterLease"/>,
/// renews it every third of that time while it streams, and deletes it when it ends. A replica that dies mid-upload
/// blocks the upload only until its lease runs out; then any replica can resume it. A server restarted on its data
/// folder (same <see cref="ReplicaIdentity"/>) takes over the leases of its dead predecessor at once.
/// </summary>
public sealed partial class UploadLeases(IServiceScopeFactory scopes, ReplicaIdentity identity, IOptions<RegistryOptions> options, TimeProvider clock, ILogger<UploadLeases> logger)
{
    public const string Prefix = "upload:";

    /// <summary>The owners of the leases this process holds right now.</summary>
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);

    /// <summary>This process, in the owner of every lease it takes (with a per-request part), so logs and rows say who holds an upload.</summary>
    public string InstanceId => identity.Id;

    public TimeSpan Duration => options.Value.UploadWriterLease;

    public static string Name(UploadId id) => Prefix + id.Value;

    /// <summary>Claims the upload for one request; null when another request (on any replica) holds it.</summary>
    public async Task<HeldLease?> TryClaimAsync(RegistryDbContext db, UploadId id, CancellationToken cancellationToken)
    {
        var owner = InstanceId + "-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        var name = Name(id);
        var now = clock.GetUtcNow().UtcDateTime;
        var until = now + Duration;
        _held[owner] = 0;
        try
        {
            if (await LeaseClaim.TryClaimAsync(db, name, owner, now, until, cancellationToken) || await TakeOverAsync(db, name, owner, until, cancellationToken))
            {
                return new HeldLease(name, owner, until, Duration, scopes, clock, logger, () => _held.TryRemove(owner, out _));
            }
        }
        catch
        {
            _held.TryRemove(owner, out _);
            throw;
        }

        _held.TryRemove(owner, out _);
        return null;
    }

    /// <summary>
    /// Takes a held lease whose owner carries this process's exclusive identity but is none of this process's
    /// requests: the process that had the identity before took it and died (a restart after a crash).
    /// </summary>
    private async Task<bool> TakeOverAsync(RegistryDbContext db, string name, string owner, DateTime until, CancellationToken cancellationToken)
    {
        if (!identity.Exclusive)
        {
            return false;
        }

        var holder = await db.Leases.AsNoTracking().Where(l => l.Name == name).Select(l => l.Owner).FirstOrDefaultAsync(cancellationToken);
        if (holder is null || !holder.StartsWith(InstanceId + "-", StringComparison.Ordinal) || _held.ContainsKey(holder))
        {
            return false;
        }

        var taken = await db.Leases.Where(l => l.Name == name && l.Owner == holder)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Owner, owner).SetProperty(l => l.Until, until), cancellationToken);
        if (taken == 1)
        {
            LogTookOver(logger, name);
        }

        return taken == 1;
    }

    /// <summary>When the current holder's lease runs out (null: nobody holds it any more).</summary>
    public async Task<DateTime?> HeldUntilAsync(RegistryDbContext db, UploadId id, CancellationToken cancellationToken)
    {
        var name = Name(id);
        var now = clock.GetUtcNow().UtcDateTime;
        return await db.Leases.AsNoTracking().Where(l => l.Name == name && l.Until > now).Select(l => l.Until).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Deletes the lease rows of uploads whose holders stopped renewing them (a replica died): they hold nothing.</summary>
    public Task<int> DeleteLapsedAsync(RegistryDbContext db, DateTime now, CancellationToken cancellationToken) =>
        db.Leases.Where(l => l.Name.StartsWith(Prefix) && (l.Until == null || l.Until <= now)).ExecuteDeleteAsync(cancellationToken);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Information, Message = "Took over {Lease}, left by this server's previous process")]
    private static partial void LogTookOver(ILogger logger, string lease);
}
