namespace Berth.Core.Data.Entities;

public enum HistoryKind
{
    /// <summary>A version moved from one stage to another.</summary>
    Stage,

    /// <summary>An alias was set, moved or removed.</summary>
    Alias,

    /// <summary>A version was deleted.</summary>
    Deleted,

    /// <summary>A transition request was opened, reviewed or closed.</summary>
    Request,
}
