using Berth.Contracts.Naming;
using Berth.Core.Blobs;

namespace Berth.Core.Insight.IO;

/// <summary>
/// A <see cref="RangeReader"/> over a stored blob: one stream from the blob store, positioned for each read (both stores'
/// streams seek: a file, or ranged GETs on S3), reopened when it cannot seek. Only asynchronous reads.
/// </summary>
public sealed class BlobRangeReader(IBlobStore store, Digest digest, long length) : RangeReader
{
    private Stream? _stream;
    private long _position = -1;

    public override long Length => length;

    protected override async ValueTask<int> ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_stream is null || (_position != offset && !_stream.CanSeek))
        {
            if (_stream is not null)
            {
                await _stream.DisposeAsync();
            }

            _stream = await store.OpenReadAsync(digest, offset, cancellationToken);
            _position = offset;
        }
        else if (_position != offset)
        {
            _stream.Seek(offset, SeekOrigin.Begin);
            _position = offset;
        }

        var read = await _stream.ReadAsync(buffer, cancellationToken);
        _position += read;
        return read;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
            _stream = null;
        }

        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }
}
