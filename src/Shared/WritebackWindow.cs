using Microsoft.Win32.SafeHandles;

namespace Berth.Interop;

/// <summary>
/// Keeps a large sequential write from filling the page cache: once 16 MiB more have been written, the
/// window before last is waited for on disk and dropped from the cache, and the last one starts writing
/// back. Memory use stays flat, the kernel recycles the same pages, and a final fsync finds little left.
/// </summary>
internal sealed class WritebackWindow(SafeFileHandle handle, long start)
{
    private const long Window = 16 * 1024 * 1024;
    private long _cachedFrom = start;
    private long _writebackFrom = start;

    /// <summary>Tells the window that every byte before <paramref name="end"/> has been written.</summary>
    public void Written(long end)
    {
        if (end - _writebackFrom < Window)
        {
            return;
        }

        PageCache.FinishWriteback(handle, _cachedFrom, _writebackFrom - _cachedFrom);
        PageCache.StartWriteback(handle, _writebackFrom, end - _writebackFrom);
        _cachedFrom = _writebackFrom;
        _writebackFrom = end;
    }
}
