namespace Berth.Client.Transfers;

/// <summary>Read-only pass-through that reports how many bytes were read, in batches.</summary>
internal sealed class ProgressStream(Stream inner, IProgress<long>? progress, bool leaveOpen = false) : Stream
{
    private const long ReportEvery = 256 * 1024;
    private long _unreported;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Report(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Report(inner.Read(buffer));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Report(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Report(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Flushed();
            if (!leaveOpen)
            {
                inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private int Report(int read)
    {
        _unreported += read;
        if (read == 0 || _unreported >= ReportEvery)
        {
            Flushed();
        }

        return read;
    }

    private void Flushed()
    {
        if (_unreported > 0)
        {
            progress?.Report(_unreported);
            _unreported = 0;
        }
    }
}
