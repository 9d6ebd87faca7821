namespace Berth.Core.Data.Entities;

/// <summary>An alias whose moves need approvals, like a protected stage.</summary>
public sealed class ProtectedAlias
{
    public long Id { get; set; }
    public long ModelId { get; set; }
    public required string Name { get; set; }
    public int RequiredApprovals { get; set; }
    public DateTime CreatedAt { get; set; }
    public long CreatedById { get; set; }
}
