using System.Diagnostics.Metrics;

namespace Berth.Core.Diagnostics;

/// <summary>
/// Berth's own metrics (System.Diagnostics.Metrics; exported at /metrics). Gauges read values the
/// maintenance service refreshes, so scraping never touches the database.
/// </summary>
public sealed class BerthMeter : IDisposable
{
    public const string MeterName = "Berth";

    private readonly Meter _meter;
    private long _openUploads;
    private long _storedBytes;
    private long _storedBlobs;

    public BerthMeter(IMeterFactory factory)
    {
        _meter = factory.Create(MeterName);
        BytesUploaded = _meter.CreateCounter<long>("berth.blob.bytes_in", "By", "Blob bytes received from clients");
        BytesDownloaded = _meter.CreateCounter<long>("berth.blob.bytes_out", "By", "Blob bytes sent to clients");
        BlobsCommitted = _meter.CreateCounter<long>("berth.blob.commits", null, "Uploads finished and verified");
        UploadsRejected = _meter.CreateCounter<long>("berth.upload.rejected", null, "Uploads rejected for a digest or size mismatch");
        VersionsCommitted = _meter.CreateCounter<long>("berth.version.commits", null, "Versions that became ready");
        _meter.CreateObservableGauge("berth.upload.sessions_open", () => Interlocked.Read(ref _openUploads), null, "Upload sessions open");
        _meter.CreateObservableGauge("berth.store.bytes", () => Interlocked.Read(ref _storedBytes), "By", "Bytes held by the blob store");
        _meter.CreateObservableGauge("berth.store.blobs", () => Interlocked.Read(ref _storedBlobs), null, "Blobs held by the blob store");
    }

    public Counter<long> BytesUploaded { get; }
    public Counter<long> BytesDownloaded { get; }
    public Counter<long> BlobsCommitted { get; }
    public Counter<long> UploadsRejected { get; }
    public Counter<long> VersionsCommitted { get; }

    public void SetStoreStatistics(long openUploads, long storedBlobs, long storedBytes)
    {
        Interlocked.Exchange(ref _openUploads, openUploads);
        Interlocked.Exchange(ref _storedBlobs, storedBlobs);
        Interlocked.Exchange(ref _storedBytes, storedBytes);
    }

    public void Dispose() => _meter.Dispose();
}
