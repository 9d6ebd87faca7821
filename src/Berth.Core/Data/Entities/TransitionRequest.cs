namespace Berth.Core.Data.Entities;

/// <summary>A request to move a version into a protected stage or a protected alias onto a version.</summary>
public sealed class TransitionRequest
{
    public long Id { get; set; }
    public long ModelId { get; set; }
    public RegisteredModel Model { get; set; } = null!;
    public long VersionId { get; set; }
    public ModelVersion Version { get; set; } = null!;
    public RequestKind Kind { get; set; }
    public string? Stage { get; set; }
    public string? Alias { get; set; }
    public RequestState State { get; set; }
    public int RequiredApprovals { get; set; }
    public long RequesterId { get; set; }
    public User Requester { get; set; } = null!;
    public string? Comment { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ClosedAt { get; set; }
    public long? ClosedById { get; set; }
    public User? ClosedBy { get; set; }
    public string? CloseReason { get; set; }

    /// <summary>The gate in force when the request was opened, and what it found (JSON).</summary>
    public string? Gate { get; set; }

    public string? GateResult { get; set; }

    /// <summary>Bumped on every change, so that two approvals at the same moment cannot both apply it.</summary>
    public long Revision { get; set; }

    public List<RequestReview> Reviews { get; set; } = [];
}
