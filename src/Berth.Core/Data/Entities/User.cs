namespace Berth.Core.Data.Entities;

public sealed class User
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string? Email { get; set; }
    public string? DisplayName { get; set; }
    public bool IsAdmin { get; set; }
    public bool Disabled { get; set; }
    public DateTime CreatedAt { get; set; }
}
