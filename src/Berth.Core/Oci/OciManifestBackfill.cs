using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Oci;

/// <summary>
/// Builds the ModelPack manifest of every ready version that has none yet, so that each version is reachable by its OCI
/// digest soon after it is committed, not only once somebody pulled it by tag. Building is idempotent (the first stored
/// manifest wins), so replicas may do it at once.
/// <para>
/// What it reads stays proportional to what is new, not to the registry: it walks the versions once by id (at start, for
/// versions older than this process), then follows the versions created since (ids above the highest seen) and keeps the
/// ids of those still uploading to look at again until they are ready, failed or deleted. It wakes at this process's
/// commits and every few seconds for other replicas'. Off when <see cref="OciOptions.BuildInBackground"/> is.
/// </para>
/// </summary>
public sealed partial class OciManifestBackfill(IServiceScopeFactory scopes, EventNotifier notifier, IOptions<OciOptions> options, ILogger<OciManifestBackfill> logger)
    : BackgroundService
{
    private const int BatchSize = 200;
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(5);

    private long _highestSeen;
    private readonly HashSet<long> _uploading = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (options.Value.BuildInBackground && !stoppingToken.IsCancellationRequested)
        {
            var next = notifier.Next;
            bool more;
            try
            {
                more = await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e);
                more = false;
            }

            if (!more)
            {
                try
                {
                    await EventNotifier.WaitAsync(next, Idle, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Looks at the next batch of versions created since the last call and at those still uploading then, building the
    /// manifests of the ready ones that lack one; true when more new versions may follow at once.
    /// </summary>
    public async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var registry = scope.ServiceProvider.GetRequiredService<OciRegistry>();

        var highest = _highestSeen;
        var created = await db.Versions.AsNoTracking().Where(v => v.Id > highest).OrderBy(v => v.Id)
            .Select(v => new { v.Id, v.State }).Take(BatchSize).ToListAsync(cancellationToken);
        var ready = new List<long>();
        foreach (var version in created)
        {
            if (version.State == VersionState.Pending)
            {
                _uploading.Add(version.Id);
            }
            else if (version.State == VersionState.Ready)
            {
                ready.Add(version.Id);
            }
        }

        if (_uploading.Count > 0)
        {
            var waiting = _uploading.ToList();
            var states = await db.Versions.AsNoTracking().Where(v => waiting.Contains(v.Id))
                .Select(v => new { v.Id, v.State }).ToListAsync(cancellationToken);
            _uploading.ExceptWith(waiting.Except(states.Where(s => s.State == VersionState.Pending).Select(s => s.Id)));
            ready.AddRange(states.Where(s => s.State == VersionState.Ready).Select(s => s.Id));
        }

        if (ready.Count > 0)
        {
            var lacking = await db.Versions.AsNoTracking()
                .Where(v => ready.Contains(v.Id) && v.Model.DeletedAt == null && v.Model.Namespace.DeletedAt == null &&
                            !db.OciManifests.Any(m => m.VersionId == v.Id && m.Repository == OciRepository.Model))
                .OrderBy(v => v.Id).Select(v => v.Id).ToListAsync(cancellationToken);
            foreach (var id in lacking)
            {
                await registry.BuildAsync(id, OciRepository.Model, cancellationToken);
            }
        }

        if (created.Count > 0)
        {
            _highestSeen = created[^1].Id;
        }

        return created.Count == BatchSize;
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Building the OCI manifests of ready versions failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
