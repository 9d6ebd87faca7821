namespace Berth.Core.Data.Entities;

/// <summary>
/// One stage of a stage policy: its place in the ordered list and its rules. A namespace's rules apply
/// to all its models unless a model has rules of its own (<see cref="ModelId"/> set), which then
/// replace them entirely.
/// </summary>
public sealed class StageRule
{
    public long Id { get; set; }
    public long NamespaceId { get; set; }
    public long? ModelId { get; set; }
    public required string Stage { get; set; }
    public int Position { get; set; }

    /// <summary>One version at a time: promoting a version archives the previous holder.</summary>
    public bool Exclusive { get; set; }

    /// <summary>Approvals needed to enter the stage (0: not protected).</summary>
    public int RequiredApprovals { get; set; }

    /// <summary>A filter expression a version must satisfy to enter the stage (null: no gate).</summary>
    public string? Gate { get; set; }

    public DateTime UpdatedAt { get; set; }
    public long UpdatedById { get; set; }
}
