namespace Berth.Core.Maintenance;

public sealed record MaintenanceReport(int ExpiredUploads, int OrphanUploads, int FailedVersions, int IdempotencyRecords)
{
    public bool HasWork => ExpiredUploads + OrphanUploads + FailedVersions + IdempotencyRecords > 0;
}
