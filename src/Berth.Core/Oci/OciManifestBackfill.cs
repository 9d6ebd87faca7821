using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Core.Oci;

/// <summary>
/// Builds the ModelPack manifest of every ready version that has none yet, a few at a time, so that each version is
/// reachable by its OCI digest soon after it is committed, not only once somebody pulled it by tag. Building is
/// idempotent (the first stored manifest wins), so replicas may do it at once.
/// </summary>
public sealed partial class OciManifestBackfill(IServiceScopeFactory scopes, ILogger<OciManifestBackfill> logger) : BackgroundService
{
    private const int BatchSize = 50;
    private static readonly TimeSpan Busy = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            int built;
            try
            {
                built = await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e);
                built = 0;
            }

            try
            {
                await Task.Delay(built == BatchSize ? Busy : Idle, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Builds the manifests of up to one batch of ready versions that lack one; returns how many it built.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var registry = scope.ServiceProvider.GetRequiredService<OciRegistry>();
        var ids = await db.Versions.AsNoTracking()
            .Where(v => v.State == VersionState.Ready && v.Model.DeletedAt == null && v.Model.Namespace.DeletedAt == null &&
                        !db.OciManifests.Any(m => m.VersionId == v.Id && m.Repository == OciRepository.Model))
            .OrderBy(v => v.Id).Select(v => v.Id).Take(BatchSize).ToListAsync(cancellationToken);
        foreach (var id in ids)
        {
            await registry.BuildAsync(id, OciRepository.Model, cancellationToken);
        }

        return ids.Count;
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Building the OCI manifests of ready versions failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
