namespace Berth.Core.Insight.IO;

/// <summary>A forward-only read stream over a window of a <see cref="RangeReader"/>.</summary>
internal sealed class RangeStream(RangeReader reader, long start, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var remaining = length - _position;
        if (remaining <= 0 || buffer.Length == 0)
        {
            return 0;
        }

        var read = reader.ReadCore(start + _position, buffer[..(int)Math.Min(buffer.Length, remaining)]);
        _position += read;
        reader.Count(read);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var remaining = length - _position;
        if (remaining <= 0 || buffer.Length == 0)
        {
            return 0;
        }

        var read = await reader.ReadAtAsync(start + _position, buffer[..(int)Math.Min(buffer.Length, remaining)], cancellationToken);
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
