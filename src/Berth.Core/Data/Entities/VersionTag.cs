namespace Berth.Core.Data.Entities;

public sealed class VersionTag
{
    public long VersionId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}
