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
