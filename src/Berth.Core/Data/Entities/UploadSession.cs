namespace Berth.Core.Data.Entities;

/// <summary>A resumable upload. Its bytes live in the blob store's upload area under <see cref="Id"/>.</summary>
public sealed class UploadSession
{
    public required string Id { get; set; }
    public required string Namespace { get; set; }
    public required string Model { get; set; }
    public long CreatedById { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}
