namespace Berth.Core.Data.Entities;

public sealed class VersionParam
{
    public long VersionId { get; set; }
    public required string Name { get; set; }
    public required string Value { get; set; }
}
