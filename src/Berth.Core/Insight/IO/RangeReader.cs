namespace Berth.Core.Insight.IO;

/// <summary>
/// Random access to the bytes of one file of known length: the parsers read only the ranges they need (a safetensors
/// or GGUF header, a zip's central directory), so a 10 GB file costs a few small reads. <see cref="BytesRead"/> counts
/// what was read, for tests and benchmarks.
/// </summary>
public abstract class RangeReader : IAsyncDisposable, IDisposable
{
    private long _bytesRead;

    /// <summary>The file's length in bytes.</summary>
    public abstract long Length { get; }

    /// <summary>Bytes read so far, through ranges and streams.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; fewer only at the end of the file.</summary>
    public async ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= Length || buffer.Length == 0)
        {
            return 0;
        }

        var wanted = (int)Math.Min(buffer.Length, Length - offset);
        var total = 0;
        while (total < wanted)
        {
            var read = await ReadCoreAsync(offset + total, buffer.Slice(total, wanted - total), cancellationToken);
            if (read <= 0)
            {
                break;
            }

            total += read;
        }

        Count(total);
        return total;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes at <paramref name="offset"/>, or throws <see cref="InsightFormatException"/>.</summary>
    public async ValueTask<byte[]> ReadExactlyAtAsync(long offset, int count, CancellationToken cancellationToken)
    {
        if (offset < 0 || count < 0 || offset > Length - count)
        {
            throw new InsightFormatException($"the file ends at byte {Length}, before the {count} bytes at {offset} it should hold");
        }

        var buffer = new byte[count];
        var read = await ReadAtAsync(offset, buffer, cancellationToken);
        return read == count ? buffer : throw new InsightFormatException($"the file ends at byte {offset + read}, before the {count} bytes at {offset} it should hold");
    }

    /// <summary>A forward-only stream over <paramref name="length"/> bytes from <paramref name="offset"/> (for parsers that read in order).</summary>
    public Stream OpenStream(long offset, long length) => new RangeStream(this, offset, Math.Max(0, Math.Min(length, Length - offset)));

    internal void Count(long bytes) => Interlocked.Add(ref _bytesRead, bytes);

    /// <summary>One read at <paramref name="offset"/> (within the file); may return fewer bytes than asked.</summary>
    protected abstract ValueTask<int> ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// A synchronous read, for the few consumers that read streams synchronously; readers of remote stores do not offer
    /// it (every parser of Berth's reads asynchronously).
    /// </summary>
    protected internal virtual int ReadCore(long offset, Span<byte> buffer) =>
        throw new NotSupportedException($"{GetType().Name} reads asynchronously only.");

    public virtual ValueTask DisposeAsync()
    {
        Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
