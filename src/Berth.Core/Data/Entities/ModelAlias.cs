namespace Berth.Core.Data.Entities;

public sealed class ModelAlias
{
    public long Id { get; set; }
    public long ModelId { get; set; }
    public required string Name { get; set; }
    public long VersionId { get; set; }
    public ModelVersion Version { get; set; } = null!;
    public DateTime UpdatedAt { get; set; }
    public long UpdatedById { get; set; }
    public User UpdatedBy { get; set; } = null!;
    public long Revision { get; set; }
}
