namespace Berth.Core.Data.Entities;

/// <summary>pending → ready, or pending → failed; ready → deleted.</summary>
public enum VersionState
{
    Pending,
    Ready,
    Failed,
    Deleted,
}
