namespace Berth.Core.Data.Entities;

/// <summary>
/// One lifecycle event of a model, kept forever: stage changes, alias moves and deletions. Answers
/// "what was in production at time T" and feeds the model's history view.
/// </summary>
public sealed class ModelHistoryEntry
{
    public long Id { get; set; }
    public long ModelId { get; set; }
    public HistoryKind Kind { get; set; }
    public string? Alias { get; set; }
    public long? VersionId { get; set; }
    public int? VersionNumber { get; set; }
    public int? PreviousVersionNumber { get; set; }
    public string? FromStage { get; set; }
    public string? ToStage { get; set; }
    /// <summary>Null when Berth itself acted (maintenance).</summary>
    public long? ActorId { get; set; }

    public User? Actor { get; set; }
    public DateTime At { get; set; }
    public string? Comment { get; set; }

    /// <summary>The transition request this entry belongs to, if any.</summary>
    public long? RequestId { get; set; }

    /// <summary>For request entries: opened, approved, rejected, cancelled, superseded or applied.</summary>
    public string? Event { get; set; }
}
