namespace Berth.Core.Data.Entities;

/// <summary>Where a training run is: running, or how it ended (stored lowercase).</summary>
public enum RunStatus
{
    Running,
    Finished,
    Failed,
    Killed,

    /// <summary>Set by the server when the run sent no heartbeat for <c>Runs:HeartbeatTimeout</c>.</summary>
    Crashed,
}
