namespace Berth.Core.Data.Entities;

public sealed class VersionMetric
{
    public long VersionId { get; set; }
    public required string Name { get; set; }
    public double Value { get; set; }
}
