namespace Berth.Core.Data.Entities;

/// <summary>
/// What Berth read inside a version (one row per version, <c>version_insights</c>): the extraction's state and the
/// version's summary, in columns the filter language and stage gates read (<c>metadata.*</c>, <c>scan.*</c>). Written
/// pending when the version is committed; the insight worker claims it (a lease), reads the files and fills it.
/// </summary>
public sealed class VersionInsightRecord
{
    public long VersionId { get; set; }

    /// <summary><c>pending</c>, <c>done</c> or <c>failed</c> (Contracts' InsightStates).</summary>
    public required string State { get; set; }

    /// <summary>Why the extraction failed: the files that could not be read, or the error that stopped it.</summary>
    public string? Reason { get; set; }

    /// <summary>The <c>ModelInspector.Version</c> that read it (a newer release may read more).</summary>
    public int Analyzer { get; set; }

    public int Attempts { get; set; }
    public DateTime QueuedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }

    /// <summary>The replica working on it, until <see cref="LeaseUntil"/>.</summary>
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseUntil { get; set; }

    public string? Framework { get; set; }
    public string? Format { get; set; }
    public long? Parameters { get; set; }
    public string? Precision { get; set; }
    public string? Quantization { get; set; }

    /// <summary>JSON: inputs, outputs and requirements (<c>InsightMetadata</c> without the scalar fields above).</summary>
    public string? Details { get; set; }

    /// <summary>The worst file's verdict; null when nothing was scanned (the namespace's scan policy is off, or it is pending).</summary>
    public string? ScanVerdict { get; set; }
    public int? DangerousFiles { get; set; }
    public int? SuspiciousFiles { get; set; }
    public int? ScannedFiles { get; set; }
}
