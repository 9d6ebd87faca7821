using Berth.Contracts.Dtos;

namespace Berth.Core.Maintenance;

/// <summary>What one maintenance run did; <c>Gc</c> is the garbage collection it ran when one was due (see <c>Registry:GcInterval</c>).</summary>
public sealed record MaintenanceReport(int ExpiredUploads, int OrphanUploads, int FailedVersions, int IdempotencyRecords, GcReport? Gc = null)
{
    public bool HasWork => ExpiredUploads + OrphanUploads + FailedVersions + IdempotencyRecords > 0;
}
