using System.Buffers;
using Amazon.S3.Model;

namespace Berth.Storage.S3;

/// <summary>
/// Reads an object from start to end with several ranged GETs in flight, so that one consumer (hashing an upload
/// to verify it) is not held to the speed of a single connection. Holds at most <see cref="Depth"/> chunks.
/// </summary>
internal sealed class S3PrefetchStream : Stream
{
    private const int ChunkSize = 16 * 1024 * 1024;
    private const int Depth = 4;

    private readonly S3Client _client;
    private readonly string _key;
    private readonly long _length;
    private readonly Queue<Task<Chunk>> _ahead = new();
    private readonly CancellationTokenSource _stop = new();
    private long _scheduled;
    private Chunk? _current;
    private int _consumed;
    private long _position;

    public S3PrefetchStream(S3Client client, string key, long length)
    {
        _client = client;
        _key = key;
        _length = length;
        Schedule();
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;

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
        if (_current is null || _consumed == _current.Length)
        {
            Release();
            if (!_ahead.TryDequeue(out var next))
            {
                return 0;
            }

            _current = await next.WaitAsync(cancellationToken);
            _consumed = 0;
            Schedule();
        }

        var count = Math.Min(buffer.Length, _current.Length - _consumed);
        _current.Buffer.AsMemory(_consumed, count).CopyTo(buffer);
        _consumed += count;
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
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Release();
        while (_ahead.TryDequeue(out var pending))
        {
            try
            {
                ArrayPool<byte>.Shared.Return((await pending).Buffer);
            }
            catch (Exception)
            {
                // Abandoned reads: their failure (or cancellation) no longer matters.
            }
        }

        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        if (_current is not null)
        {
            ArrayPool<byte>.Shared.Return(_current.Buffer);
            _current = null;
        }
    }

    private void Schedule()
    {
        while (_ahead.Count < Depth && _scheduled < _length)
        {
            var start = _scheduled;
            var length = (int)Math.Min(ChunkSize, _length - start);
            _scheduled += length;
            _ahead.Enqueue(FetchAsync(start, length, _stop.Token));
        }
    }

    private async Task<Chunk> FetchAsync(long start, int length, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            await _client.CallAsync("read " + _key, async s3 =>
            {
                using var response = await s3.GetObjectAsync(new GetObjectRequest
                {
                    BucketName = _client.Bucket,
                    Key = _key,
                    ByteRange = new ByteRange(start, start + length - 1),
                }, cancellationToken);
                await response.ResponseStream.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken);
            });
            return new Chunk(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private sealed record Chunk(byte[] Buffer, int Length);
}
