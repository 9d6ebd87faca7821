namespace Berth.Client.Transfers;

public sealed record PullOptions
{
    /// <summary>Files downloaded at the same time.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>
    /// Replace what is in the way of the version's files: existing files with other content, and links or
    /// folders where a file (or a file or link where a folder) has to go. Without it such a pull throws
    /// <see cref="PullConflictException"/> before writing anything. Files already identical are kept either way.
    /// </summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Make the folder exactly the version: also remove every file, link and folder that is not part of it
    /// (links are removed, never followed). Implies <see cref="Overwrite"/>.
    /// </summary>
    public bool Clean { get; init; }
}
