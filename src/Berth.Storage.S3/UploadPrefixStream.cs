namespace Berth.Storage.S3;

/// <summary>
/// Reads an upload from its start: the staged part objects one after the other, then the bytes the writer
/// still holds in memory. Used to recompute the running hash when this process did not receive the prefix.
/// </summary>
internal sealed class UploadPrefixStream(S3Client client, IReadOnlyList<(string Key, long Size)> parts, ReadOnlyMemory<byte> tail) : Stream
{
    private int _part;
    private S3ReadStream? _current;
    private int _tailRead;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => parts.Sum(p => p.Size) + tail.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_part < parts.Count)
        {
            _current ??= new S3ReadStream(client, parts[_part].Key, parts[_part].Size, blob: null);
            var read = await _current.ReadAsync(buffer, cancellationToken);
            if (read > 0)
            {
                _position += read;
                return read;
            }

            await _current.DisposeAsync();
            _current = null;
            _part++;
        }

        var count = Math.Min(buffer.Length, tail.Length - _tailRead);
        tail.Slice(_tailRead, count).CopyTo(buffer);
        _tailRead += count;
        _position += count;
        return count;
    }

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
            _current?.Dispose();
        }

        base.Dispose(disposing);
    }
}
