namespace Berth.Core.Data.Entities;

public sealed class VersionFile
{
    public long VersionId { get; set; }
    public required string Path { get; set; }
    public long Size { get; set; }
    public required string Digest { get; set; }
    public string? MediaType { get; set; }
}
