namespace Berth.Core.Data.Entities;

public sealed class VersionFile
{
    public long VersionId { get; set; }
    public required string Path { get; set; }
    public long Size { get; set; }
    public required string Digest { get; set; }
    public string? MediaType { get; set; }

    /// <summary>
    /// Set when the version was declared by a caller who could not already read these bytes (no ready version it may
    /// read references the digest): the version becomes ready only after the bytes were uploaded into its model, which
    /// clears the flag. So knowing a digest is never enough to get another namespace's file (docs/api.md, "Pushing").
    /// </summary>
    public bool NeedsUpload { get; set; }
}
