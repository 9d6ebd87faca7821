using Amazon.S3.Model;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;

namespace Berth.Storage.S3;

/// <summary>
/// A seekable read-only view of one object of known length. Nothing is fetched until the first read, which
/// issues one ranged GET from the current position; a seek drops that response and the next read starts
/// another. So ASP.NET Core's range processing (seek, then copy N bytes) costs one request per range.
/// </summary>
internal sealed class S3ReadStream(S3Client client, string key, long length, Digest? blob) : Stream
{
    private Stream? _body;
    private GetObjectResponse? _response;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        if (target != _position)
        {
            CloseBody();
            _position = target;
        }

        return _position;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.Length == 0)
        {
            return 0;
        }

        if (_body is null)
        {
            try
            {
                _response = await client.CallAsync("read " + key, s3 => s3.GetObjectAsync(new GetObjectRequest
                {
                    BucketName = client.Bucket,
                    Key = key,
                    ByteRange = new ByteRange(_position, length - 1),
                }, cancellationToken));
            }
            catch (BlobStoreException e) when (blob is { } digest && S3Client.IsNotFound(e))
            {
                throw new BlobNotFoundException(digest);
            }

            _body = _response.ResponseStream;
        }

        int read;
        try
        {
            read = await _body.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException e)
        {
            throw client.Failure("read " + key, e);
        }

        if (read == 0)
        {
            throw client.Failure("read " + key, new EndOfStreamException($"the object ended at byte {_position} of {length}"));
        }

        _position += read;
        return read;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            CloseBody();
        }

        base.Dispose(disposing);
    }

    private void CloseBody()
    {
        _body?.Dispose();
        _response?.Dispose();
        _body = null;
        _response = null;
    }
}
