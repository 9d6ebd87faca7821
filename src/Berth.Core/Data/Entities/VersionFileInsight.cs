namespace Berth.Core.Data.Entities;

/// <summary>
/// What Berth read from one file of a version (<c>version_file_insights</c>): its format and verdict as columns, the
/// whole reading as JSON (a <c>FileInsight</c>). Another version with the same bytes under the same file name reuses it.
/// </summary>
public sealed class VersionFileInsight
{
    public long VersionId { get; set; }
    public required string Path { get; set; }
    public required string Digest { get; set; }

    /// <summary>The file's name (the last segment of its path): formats without a magic number are told by it.</summary>
    public required string Name { get; set; }

    public string? Format { get; set; }
    public string? Verdict { get; set; }
    public bool Failed { get; set; }

    /// <summary>Whether the reading includes the pickle scan (it does not under the scan policy <c>off</c>).</summary>
    public bool Scanned { get; set; }

    public int Analyzer { get; set; }

    /// <summary>The reading, a <c>FileInsight</c> in JSON.</summary>
    public required string Document { get; set; }
}
