namespace Berth.Core.Data.Entities;

/// <summary>
/// One entry of the audit log: who did what to what, when and from where. Entries form a hash chain:
/// <see cref="Hash"/> covers every field and <see cref="PreviousHash"/>, so editing or deleting any entry
/// breaks the chain from that point on. <see cref="Id"/> is the position in the chain (1, 2, 3…).
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public long? ActorId { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public string? Namespace { get; set; }
    public string? Target { get; set; }

    /// <summary>Before/after summary as compact JSON.</summary>
    public string? Details { get; set; }

    public string? ClientAddress { get; set; }
    public string? RequestId { get; set; }
    public required string PreviousHash { get; set; }
    public required string Hash { get; set; }
}
