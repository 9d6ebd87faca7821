namespace Berth.Core.Data.Entities;

public sealed class VersionDataset
{
    public long VersionId { get; set; }
    public int Ordinal { get; set; }
    public required string Uri { get; set; }
    public string? Digest { get; set; }
}
