using System.Buffers;
using Amazon.S3.Model;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Errors;
using Berth.Core.Blobs;

namespace Berth.Storage.S3;

/// <summary>
/// Appends to one upload. Bytes collect in a buffer of one part size; a full buffer becomes the next part
/// object; a flush writes what is left over as the tail object (replacing the previous one), so every
/// acknowledged byte is durable in the bucket whatever the size of the appends. S3's rule that parts be at
/// least 5 MiB is kept because only full buffers become parts and the tail becomes the last part on commit.
/// </summary>
internal sealed class S3UploadWriter : IBlobUploadWriter
{
    private const int CopyParallelism = 4;

    /// <summary>Full parts being written while the next one fills (each holds a buffer of one part size).</summary>
    private const int StagingParallelism = 3;

    /// <summary>S3's limit on the parts of one multipart upload.</summary>
    private const int MaxParts = 10_000;

    private readonly S3BlobStore _store;
    private readonly List<StagedObject> _parts;
    private readonly List<string> _stale;
    private readonly Queue<Task> _staging = new();
    private byte[] _buffer;
    private int _buffered;
    private StagedObject? _durableTail;
    private bool _done;
    private bool _disposed;

    private S3UploadWriter(S3BlobStore store, UploadId id, UploadObjects objects)
    {
        _store = store;
        Id = id;
        _parts = [.. objects.ValidParts];
        _durableTail = objects.ValidTail;
        _stale = [.. objects.Parts.Concat(objects.Tails).Select(o => o.Key).Except(_parts.Select(p => p.Key)).Where(k => k != _durableTail?.Key)];
        _buffer = ArrayPool<byte>.Shared.Rent(store.Options.PartSize);
    }

    public UploadId Id { get; }

    public long Length => PartsLength + _buffered;

    private long PartsLength => _parts.Sum(p => p.Size);

    private int PartSize => _store.Options.PartSize;

    private string Bucket => _store.Options.Bucket;

    private S3Client Client => _store.Client;

    public static async Task<S3UploadWriter> OpenAsync(S3BlobStore store, UploadId id, UploadObjects objects, CancellationToken cancellationToken)
    {
        var writer = new S3UploadWriter(store, id, objects);
        try
        {
            if (writer._durableTail is { Size: > 0 } tail)
            {
                await using var read = new S3ReadStream(store.Client, tail.Key, tail.Size, blob: null);
                await read.ReadExactlyAsync(writer._buffer.AsMemory(0, (int)tail.Size), cancellationToken);
                writer._buffered = (int)tail.Size;
            }

            return writer;
        }
        catch
        {
            await writer.DisposeAsync();
            throw;
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        while (data.Length > 0)
        {
            var count = Math.Min(data.Length, PartSize - _buffered);
            data[..count].CopyTo(_buffer.AsMemory(_buffered));
            _buffered += count;
            data = data[count..];
            if (_buffered == PartSize)
            {
                await StagePartAsync(cancellationToken);
            }
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        await DrainAsync();
        var number = _parts.Count + 1;
        if (_buffered > 0 && !(_durableTail is { } current && current.Number == number && current.Size == _buffered))
        {
            var key = _store.Keys.Tail(Id, number);
            await PutAsync(key, _buffered, cancellationToken);
            if (_durableTail is { } previous && previous.Key != key)
            {
                _stale.Add(previous.Key);
            }

            _durableTail = new StagedObject(number, key, _buffered);
        }

        foreach (var key in _stale.Where(k => k != _durableTail?.Key).ToList())
        {
            await _store.DeleteObjectAsync(key, cancellationToken);
            _stale.Remove(key);
        }
    }

    public Task<Stream> OpenReadAsync(CancellationToken cancellationToken) =>
        Task.FromResult<Stream>(new UploadPrefixStream(Client, [.. _parts.Select(p => (p.Key, p.Size))], _buffer.AsMemory(0, _buffered)));

    public async Task<BlobPutResult> CommitAsync(Digest digest, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        await DrainAsync();
        var target = _store.Keys.Blob(digest);
        BlobPutResult result;
        if (await _store.StatAsync(digest, cancellationToken) is not null)
        {
            result = BlobPutResult.AlreadyExists;
        }
        else
        {
            if (_parts.Count == 0)
            {
                await PutAsync(target, _buffered, cancellationToken);
            }
            else if (_parts.Count == 1 && _buffered == 0)
            {
                await Client.CallAsync("copy the upload into blob " + digest, s3 => s3.CopyObjectAsync(new CopyObjectRequest
                {
                    SourceBucket = Bucket,
                    SourceKey = _parts[0].Key,
                    DestinationBucket = Bucket,
                    DestinationKey = target,
                }, cancellationToken));
            }
            else
            {
                await AssembleAsync(digest, target, cancellationToken);
            }

            result = BlobPutResult.Created;
        }

        _done = true;
        await _store.DeleteUploadAsync(Id, cancellationToken);
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _done = true;
            try
            {
                await DrainAsync();
            }
            catch (Exception)
            {
                // Disposing after a failure: the failure was reported where it happened.
            }

            ArrayPool<byte>.Shared.Return(_buffer);
            _store.Release(Id);
        }
    }

    /// <summary>A multipart upload into the blob's key: staged parts copied server-side, the buffer as the last part.</summary>
    private async Task AssembleAsync(Digest digest, string target, CancellationToken cancellationToken)
    {
        var what = "assemble blob " + digest;
        await Client.MultipartAsync(what, target, async multipart =>
        {
            var etags = new PartETag[_parts.Count + (_buffered > 0 ? 1 : 0)];
            await Parallel.ForEachAsync(_parts, new ParallelOptions { MaxDegreeOfParallelism = CopyParallelism, CancellationToken = cancellationToken }, async (part, ct) =>
            {
                var copied = await Client.CallAsync(what, s3 => s3.CopyPartAsync(new CopyPartRequest
                {
                    SourceBucket = Bucket,
                    SourceKey = part.Key,
                    DestinationBucket = Bucket,
                    DestinationKey = target,
                    UploadId = multipart,
                    PartNumber = part.Number,
                }, ct));
                etags[part.Number - 1] = new PartETag(part.Number, copied.ETag);
            });

            if (_buffered > 0)
            {
                var number = _parts.Count + 1;
                using var body = new MemoryStream(_buffer, 0, _buffered, writable: false);
                var uploaded = await Client.CallAsync(what, s3 => s3.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = Bucket,
                    Key = target,
                    UploadId = multipart,
                    PartNumber = number,
                    InputStream = body,
                    PartSize = _buffered,
                }, cancellationToken));
                etags[number - 1] = new PartETag(number, uploaded.ETag);
            }

            return etags;
        }, cancellationToken);
    }

    /// <summary>
    /// Starts writing the full buffer as the next part and continues in a fresh buffer; at most
    /// <see cref="StagingParallelism"/> parts are in flight. Their bytes count as durable only after a drain.
    /// </summary>
    private async Task StagePartAsync(CancellationToken cancellationToken)
    {
        var number = _parts.Count + 1;
        if (number >= MaxParts)
        {
            // The last of S3's 10,000 parts is kept for the tail.
            var max = (long)PartSize * MaxParts;
            throw Fail.Error(ErrorCodes.BodyTooLarge, $"A blob in this S3 store may be at most {max} bytes ({MaxParts} parts of {PartSize >> 20} MiB); raise part-size-mb in --blobs.");
        }

        while (_staging.Count >= StagingParallelism)
        {
            await _staging.Dequeue();
        }

        var key = _store.Keys.Part(Id, number);
        var buffer = _buffer;
        var length = _buffered;
        _staging.Enqueue(StageAsync(key, buffer, length, cancellationToken));
        _parts.Add(new StagedObject(number, key, length));
        _buffer = ArrayPool<byte>.Shared.Rent(PartSize);
        _buffered = 0;

        // The tail's bytes are now inside this part: the tail object is superseded.
        if (_durableTail is { } tail)
        {
            _stale.Add(tail.Key);
            _durableTail = null;
        }
    }

    private async Task StageAsync(string key, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        try
        {
            await PutAsync(key, buffer, length, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Waits for every part in flight; the first failure is thrown.</summary>
    private async Task DrainAsync()
    {
        while (_staging.TryDequeue(out var staging))
        {
            await staging;
        }
    }

    /// <summary>Writes the first <paramref name="length"/> bytes of the buffer as one object.</summary>
    private Task PutAsync(string key, int length, CancellationToken cancellationToken) => PutAsync(key, _buffer, length, cancellationToken);

    private Task PutAsync(string key, byte[] buffer, int length, CancellationToken cancellationToken) =>
        Client.CallAsync("write " + key, async s3 =>
        {
            using var body = new MemoryStream(buffer, 0, length, writable: false);
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = body, AutoCloseStream = false }, cancellationToken);
        });
}
