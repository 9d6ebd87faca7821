using System.Diagnostics.Metrics;

namespace Berth.Core.Diagnostics;

/// <summary>
/// Berth's own metrics (System.Diagnostics.Metrics, exported at /metrics). Everything is observed from
/// counters kept here, so exporters read a consistent value at scrape time; the store gauges hold what
/// the maintenance service last measured, so scraping never touches the database.
/// </summary>
public sealed class BerthMeter : IDisposable
{
    public const string MeterName = "Berth";

    private readonly Meter _meter;
    private long _bytesIn;
    private long _bytesOut;
    private long _blobsCreated;
    private long _blobsExisting;
    private long _uploadsRejected;
    private long _openUploads;
    private long _storedBytes;
    private long _storedBlobs;
    private long _scrubFinished;
    private long _scrubBlobs;
    private long _scrubProblems;

    public BerthMeter(IMeterFactory factory)
    {
        _meter = factory.Create(MeterName);
        _meter.CreateObservableCounter("blob.received.bytes", () => Interlocked.Read(ref _bytesIn), "By", "Blob bytes received from clients");
        _meter.CreateObservableCounter("blob.sent.bytes", () => Interlocked.Read(ref _bytesOut), "By", "Blob bytes sent to clients");
        _meter.CreateObservableCounter("blob.created", () => Interlocked.Read(ref _blobsCreated), null, "Uploads verified and stored as new blobs");
        _meter.CreateObservableCounter("blob.deduplicated", () => Interlocked.Read(ref _blobsExisting), null, "Uploads verified whose bytes the store already held");
        _meter.CreateObservableCounter("upload.rejected", () => Interlocked.Read(ref _uploadsRejected), null, "Uploads rejected for a digest or size mismatch");
        _meter.CreateObservableGauge("upload.sessions_open", () => Interlocked.Read(ref _openUploads), null, "Upload sessions open");
        _meter.CreateObservableGauge("store.bytes", () => Interlocked.Read(ref _storedBytes), "By", "Bytes held by the blob store");
        _meter.CreateObservableGauge("store.blobs", () => Interlocked.Read(ref _storedBlobs), null, "Blobs held by the blob store");
        _meter.CreateObservableGauge("fsck.last_run.timestamp", () => Interlocked.Read(ref _scrubFinished), null, "When the last scrub (berth fsck) finished, Unix seconds (0: never)");
        _meter.CreateObservableGauge("fsck.blobs_checked", () => Interlocked.Read(ref _scrubBlobs), null, "Blobs the last scrub re-hashed");
        _meter.CreateObservableGauge("fsck.problems", () => Interlocked.Read(ref _scrubProblems), null, "Problems the last scrub found (missing, wrong size, corrupt, stray)");
    }

    /// <summary>The meter itself, so an exporter can pick exactly this server's instruments.</summary>
    public Meter Meter => _meter;

    public void BytesReceived(long bytes) => Interlocked.Add(ref _bytesIn, bytes);

    public void BytesSent(long bytes) => Interlocked.Add(ref _bytesOut, bytes);

    public void BlobStored(bool created) => Interlocked.Increment(ref created ? ref _blobsCreated : ref _blobsExisting);

    public void UploadRejected() => Interlocked.Increment(ref _uploadsRejected);

    public void SetStoreStatistics(long openUploads, long storedBlobs, long storedBytes)
    {
        Interlocked.Exchange(ref _openUploads, openUploads);
        Interlocked.Exchange(ref _storedBlobs, storedBlobs);
        Interlocked.Exchange(ref _storedBytes, storedBytes);
    }

    /// <summary>The last finished scrub (read from the database, so every replica reports the same).</summary>
    public void SetScrubResult(DateTimeOffset finishedAt, long blobsChecked, long problems)
    {
        Interlocked.Exchange(ref _scrubFinished, finishedAt.ToUnixTimeSeconds());
        Interlocked.Exchange(ref _scrubBlobs, blobsChecked);
        Interlocked.Exchange(ref _scrubProblems, problems);
    }

    public void Dispose() => _meter.Dispose();
}
