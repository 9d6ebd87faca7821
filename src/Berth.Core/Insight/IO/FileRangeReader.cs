using Microsoft.Win32.SafeHandles;

namespace Berth.Core.Insight.IO;

/// <summary>A <see cref="RangeReader"/> over a local file (positional reads; nothing is buffered).</summary>
public sealed class FileRangeReader : RangeReader
{
    private readonly SafeFileHandle _handle;
    private readonly long _length;

    private FileRangeReader(SafeFileHandle handle)
    {
        _handle = handle;
        _length = RandomAccess.GetLength(handle);
    }

    public static FileRangeReader Open(string path) =>
        new(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous));

    public override long Length => _length;

    protected override ValueTask<int> ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        RandomAccess.ReadAsync(_handle, buffer, offset, cancellationToken);

    protected internal override int ReadCore(long offset, Span<byte> buffer) => RandomAccess.Read(_handle, buffer, offset);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }
    }
}
