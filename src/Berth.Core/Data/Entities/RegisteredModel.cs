namespace Berth.Core.Data.Entities;

public sealed class RegisteredModel
{
    public long Id { get; set; }
    public long NamespaceId { get; set; }
    public RegistryNamespace Namespace { get; set; } = null!;
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>The last version number handed out; numbers are never reused.</summary>
    public int LastVersionNumber { get; set; }

    /// <summary>Bumped on every change of the model's own fields; the ETag.</summary>
    public long Revision { get; set; }

    public DateTime? DeletedAt { get; set; }
    public List<ModelTag> Tags { get; set; } = [];
    public List<ModelVersion> Versions { get; set; } = [];
    public List<ModelAlias> Aliases { get; set; } = [];
}
