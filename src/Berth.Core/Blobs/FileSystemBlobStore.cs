using System.Runtime.CompilerServices;
using Berth.Contracts.Naming;
using Berth.Core.Common;
using Berth.Interop;
using Microsoft.Extensions.Options;

namespace Berth.Core.Blobs;

/// <summary>
/// The embedded blob store: a folder on local disk, laid out by <see cref="BlobPaths"/>. Uploads are
/// appended to <c>uploads/&lt;id&gt;/data</c> under an exclusive file lock, fsynced, and renamed
/// atomically into <c>blobs/</c> on commit, so a blob file is always complete.
/// </summary>
public sealed class FileSystemBlobStore : IBlobStore
{
    private readonly BlobPaths _paths;
    private readonly bool _fsync;

    public FileSystemBlobStore(IOptions<FileSystemBlobStoreOptions> options)
    {
        _paths = new BlobPaths(options.Value.Root);
        _fsync = options.Value.Fsync;
        // Private (0700 folders, 0600 files): other local users read neither models nor uploads.
        PrivateFiles.CreateDirectory(_paths.BlobsRoot);
        PrivateFiles.CreateDirectory(_paths.UploadsRoot);
    }

    public string Name => "filesystem";

    public BlobPaths Paths => _paths;

    public Task<BlobStat?> StatAsync(Digest digest, CancellationToken cancellationToken)
    {
        var info = new FileInfo(_paths.Blob(digest));
        return Task.FromResult(info.Exists ? new BlobStat(digest, info.Length, info.LastWriteTimeUtc) : null);
    }

    public Task<Stream> OpenReadAsync(Digest digest, long offset, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        try
        {
            var stream = new FileStream(_paths.Blob(digest), new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                BufferSize = 0,
                Options = FileOptions.SequentialScan,
            });
            if (offset > 0)
            {
                stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
            }

            return Task.FromResult<Stream>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobNotFoundException(digest);
        }
    }

    public Task<Uri?> GetDownloadUriAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken) =>
        Task.FromResult<Uri?>(null);

    /// <summary>A folder has no URLs to write to: every byte comes through Berth.</summary>
    public Task<DirectUploadTarget?> PlanDirectUploadAsync(UploadId id, long size, TimeSpan lifetime, CancellationToken cancellationToken) =>
        Task.FromResult<DirectUploadTarget?>(null);

    public Task<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken)
    {
        var path = _paths.Blob(digest);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        SyncDirectory(_paths.BlobDirectory(digest));
        return Task.FromResult(true);
    }

    public async IAsyncEnumerable<BlobStat> EnumerateAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        if (!Directory.Exists(_paths.BlobsRoot))
        {
            yield break;
        }

        foreach (var file in new DirectoryInfo(_paths.BlobsRoot).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Digest.TryParse(Digest.Sha256Prefix + file.Name, out var digest) &&
                string.Equals(file.Directory?.Name, digest.Hex[..2], StringComparison.Ordinal))
            {
                yield return new BlobStat(digest, file.Length, file.LastWriteTimeUtc);
            }
        }
    }

    public Task<long> GetUploadLengthAsync(UploadId id, CancellationToken cancellationToken)
    {
        var info = new FileInfo(_paths.UploadData(id));
        return Task.FromResult(info.Exists ? info.Length : 0L);
    }

    public Task<IBlobUploadWriter> OpenUploadWriterAsync(UploadId id, long? offset, CancellationToken cancellationToken)
    {
        PrivateFiles.CreateDirectory(_paths.UploadDirectory(id));
        FileStream stream;
        try
        {
            // FileShare.None takes an exclusive lock (flock on Unix): one writer per upload, across processes.
            stream = new FileStream(_paths.UploadData(id), new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                BufferSize = 0,
            }.Private());
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            var length = new FileInfo(_paths.UploadData(id)) is { Exists: true } info ? info.Length : 0;
            throw new UploadConflictException(id, length, busy: true);
        }

        var current = stream.Length;
        if (offset is { } expected && expected != current)
        {
            stream.Dispose();
            throw new UploadConflictException(id, current, busy: false);
        }

        return Task.FromResult<IBlobUploadWriter>(new Writer(this, id, stream));
    }

    public Task DeleteUploadAsync(UploadId id, CancellationToken cancellationToken)
    {
        var directory = _paths.UploadDirectory(id);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<UploadEntry> EnumerateUploadsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        if (!Directory.Exists(_paths.UploadsRoot))
        {
            yield break;
        }

        foreach (var directory in new DirectoryInfo(_paths.UploadsRoot).EnumerateDirectories())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!UploadId.TryParse(directory.Name, out var id))
            {
                continue;
            }

            var data = new FileInfo(Path.Combine(directory.FullName, "data"));
            yield return data.Exists
                ? new UploadEntry(id, data.Length, data.LastWriteTimeUtc)
                : new UploadEntry(id, 0, directory.LastWriteTimeUtc);
        }
    }

    private void SyncDirectory(string directory)
    {
        if (_fsync)
        {
            DiskSync.SyncDirectory(directory);
        }
    }

    private sealed class Writer(FileSystemBlobStore store, UploadId id, FileStream stream) : IBlobUploadWriter
    {
        private readonly WritebackWindow? _window = store._fsync ? new WritebackWindow(stream.SafeFileHandle, stream.Length) : null;
        private readonly long _start = stream.Length;
        private long _length = stream.Length;
        private bool _committed;

        public UploadId Id => id;

        public long Length => _length;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_committed, this);
            try
            {
                await RandomAccess.WriteAsync(stream.SafeFileHandle, data, _length, cancellationToken);
            }
            catch (IOException e) when (DiskFull.Is(e))
            {
                // The disk is full: give back what this writer added, so that a failed request does not keep it full
                // (the database may share the disk). Bytes acknowledged before stay: the upload resumes from there.
                RandomAccess.SetLength(stream.SafeFileHandle, _start);
                _length = _start;
                throw;
            }

            _length += data.Length;

            // Let the disk work while the rest arrives, and recycle the cache of what is on disk already.
            _window?.Written(_length);
        }

        public Task FlushAsync(CancellationToken cancellationToken)
        {
            if (store._fsync)
            {
                stream.Flush(flushToDisk: true);
            }

            return Task.CompletedTask;
        }

        public Task<Stream> OpenReadAsync(CancellationToken cancellationToken) => Task.FromResult<Stream>(new HandleReadStream(stream.SafeFileHandle, _length));

        public async Task<BlobPutResult> CommitAsync(Digest digest, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_committed, this);
            await FlushAsync(cancellationToken);
            var target = store._paths.Blob(digest);
            var source = store._paths.UploadData(id);
            _committed = true;
            BlobPutResult result;
            if (File.Exists(target))
            {
                result = BlobPutResult.AlreadyExists;
            }
            else
            {
                var directory = store._paths.BlobDirectory(digest);
                PrivateFiles.CreateDirectory(directory);
                try
                {
                    File.Move(source, target, overwrite: false);
                    store.SyncDirectory(directory);
                    result = BlobPutResult.Created;
                }
                catch (IOException) when (File.Exists(target))
                {
                    // Another upload of the same bytes won the rename: identical content, keep theirs.
                    result = BlobPutResult.AlreadyExists;
                }
            }

            await stream.DisposeAsync();
            await store.DeleteUploadAsync(id, cancellationToken);
            return result;
        }

        public async ValueTask DisposeAsync()
        {
            await stream.DisposeAsync();
        }
    }
}
