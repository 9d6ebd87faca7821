namespace Berth.Core.Data.Entities;

/// <summary>A lineage edge: this version was derived from (fine-tuned on, distilled from…) the parent.</summary>
public sealed class VersionParent
{
    public long VersionId { get; set; }
    public int Ordinal { get; set; }
    public long ParentVersionId { get; set; }
    public ModelVersion Parent { get; set; } = null!;
}
