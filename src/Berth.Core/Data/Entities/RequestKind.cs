namespace Berth.Core.Data.Entities;

public enum RequestKind
{
    /// <summary>Move a version into a stage.</summary>
    Stage,

    /// <summary>Point an alias at a version.</summary>
    Alias,
}
