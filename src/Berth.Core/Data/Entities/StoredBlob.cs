namespace Berth.Core.Data.Entities;

/// <summary>A blob known to be durably in the blob store. Written only after the bytes are in place.</summary>
public sealed class StoredBlob
{
    public required string Digest { get; set; }
    public long Size { get; set; }
    public DateTime CreatedAt { get; set; }
}
