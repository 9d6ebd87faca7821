namespace Berth.Client.Transfers;

/// <summary>Aggregates byte counts from parallel transfers into <see cref="TransferProgress"/> snapshots.</summary>
internal sealed class ProgressTracker(IProgress<TransferProgress>? sink) : IProgress<long>
{
    private readonly Lock _gate = new();
    private TransferPhase _phase;
    private long _bytesDone;
    private long _bytesTotal;
    private int _filesDone;
    private int _filesTotal;
    private long _resumed;

    /// <summary>Bytes that counted as done because the server already held them (resumed uploads).</summary>
    public long Resumed
    {
        get
        {
            lock (_gate)
            {
                return _resumed;
            }
        }
    }

    public void Start(TransferPhase phase, long bytesTotal, int filesTotal)
    {
        lock (_gate)
        {
            (_phase, _bytesDone, _bytesTotal, _filesDone, _filesTotal) = (phase, 0, bytesTotal, 0, filesTotal);
        }

        Publish();
    }

    public void Report(long value)
    {
        lock (_gate)
        {
            _bytesDone += value;
        }

        Publish();
    }

    /// <summary>Bytes the server already held when an upload resumed: done, but not sent now.</summary>
    public void Skip(long value)
    {
        lock (_gate)
        {
            _bytesDone += value;
            _resumed += value;
        }

        Publish();
    }

    /// <summary>Reports resumed bytes to a tracker as such, to any other progress as plain progress.</summary>
    public static void ReportResumed(IProgress<long>? progress, long bytes)
    {
        if (progress is ProgressTracker tracker)
        {
            tracker.Skip(bytes);
        }
        else
        {
            progress?.Report(bytes);
        }
    }

    public void FileDone()
    {
        lock (_gate)
        {
            _filesDone++;
        }

        Publish();
    }

    private void Publish()
    {
        if (sink is null)
        {
            return;
        }

        TransferProgress snapshot;
        lock (_gate)
        {
            snapshot = new TransferProgress(_phase, _bytesDone, _bytesTotal, _filesDone, _filesTotal);
        }

        sink.Report(snapshot);
    }
}
