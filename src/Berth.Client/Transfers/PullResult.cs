using Berth.Contracts.Dtos;

namespace Berth.Client.Transfers;

/// <summary>
/// What a pull did: files written (<see cref="BytesWritten"/> in all: <see cref="BytesDownloaded"/> fetched now,
/// <see cref="BytesResumed"/> taken from partial downloads of an earlier pull), files kept because they were
/// already identical, paths removed by <see cref="PullOptions.Clean"/>, and warnings (dangerous paths,
/// discarded partial downloads).
/// </summary>
public sealed record PullResult(
    VersionInfo Version,
    string Directory,
    int FilesDownloaded,
    int FilesUnchanged,
    long BytesWritten,
    long BytesDownloaded,
    long BytesResumed,
    IReadOnlyList<string> Removed,
    IReadOnlyList<PullWarning> Warnings,
    TimeSpan Elapsed);

/// <summary>Something a pull did or found that the user should know: <see cref="Kind"/> is one of the constants here.</summary>
public sealed record PullWarning(string Kind, string Path, string Message)
{
    /// <summary>The path is dangerous to materialise (see <see cref="RiskyPaths"/>).</summary>
    public const string RiskyPath = "risky_path";

    /// <summary>A partial download left by an earlier pull did not verify; it was discarded and the file downloaded again.</summary>
    public const string PartialDiscarded = "partial_discarded";
}

/// <summary>Something in the output folder where a file of the version has to go, and what it is.</summary>
public sealed record PullConflict(string Path, string Reason);

/// <summary>
/// The output folder holds files (or links, or folders) with other content where the version's files go;
/// nothing was written. Pull with <see cref="PullOptions.Overwrite"/> to replace them.
/// </summary>
public sealed class PullConflictException(string directory, string reference, IReadOnlyList<PullConflict> conflicts)
    : IOException($"{conflicts.Count} {(conflicts.Count == 1 ? "path" : "paths")} in '{directory}' would have to be replaced to pull {reference}; nothing was written.")
{
    public string Directory { get; } = directory;

    public IReadOnlyList<PullConflict> Conflicts { get; } = conflicts;
}
