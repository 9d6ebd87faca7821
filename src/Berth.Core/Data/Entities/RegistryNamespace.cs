namespace Berth.Core.Data.Entities;

public sealed class RegistryNamespace
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }

    public DateTime CreatedAt { get; set; }
    public long CreatedById { get; set; }
    public DateTime? DeletedAt { get; set; }
    public List<RegisteredModel> Models { get; set; } = [];
}
