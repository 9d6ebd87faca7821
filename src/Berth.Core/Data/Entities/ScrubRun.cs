namespace Berth.Core.Data.Entities;

/// <summary>
/// The outcome of one finished scrub (<c>berth fsck</c>). The newest row is what every replica's <c>/metrics</c>
/// reports; the audit log has the same numbers in its <c>fsck.run</c> entry.
/// </summary>
public sealed class ScrubRun
{
    public long Id { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime FinishedAt { get; set; }
    public int BlobsChecked { get; set; }
    public long BytesChecked { get; set; }
    public int Problems { get; set; }
    public int Quarantined { get; set; }
    public int Released { get; set; }
}
