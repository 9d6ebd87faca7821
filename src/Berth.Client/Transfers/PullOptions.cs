namespace Berth.Client.Transfers;

public sealed record PullOptions
{
    /// <summary>Files downloaded at the same time.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>Keep files already present with the right size and digest instead of downloading them again.</summary>
    public bool SkipUnchanged { get; init; } = true;
}
