using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Client.Transfers;

/// <summary>
/// Keeps a large download from filling the page cache with new pages: every 16 MiB, the window before
/// last is waited for on disk and dropped from the cache, and the last one starts writing back. Memory
/// use stays flat and the kernel recycles the same pages (Linux; elsewhere this does nothing).
/// </summary>
internal sealed partial class WritebackWindow(SafeFileHandle handle, long start)
{
    private const long Window = 16 * 1024 * 1024;
    private const uint WaitBefore = 1;
    private const uint Write = 2;
    private const uint WaitAfter = 4;
    private const int DontNeed = 4;
    private long _cachedFrom = start;
    private long _writebackFrom = start;

    public void Written(long end)
    {
        if (!OperatingSystem.IsLinux() || end - _writebackFrom < Window)
        {
            return;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            _ = SyncFileRange(fd, _cachedFrom, _writebackFrom - _cachedFrom, WaitBefore | Write | WaitAfter);
            _ = PosixFadvise(fd, _cachedFrom, _writebackFrom - _cachedFrom, DontNeed);
            _ = SyncFileRange(fd, _writebackFrom, end - _writebackFrom, Write);
            _cachedFrom = _writebackFrom;
            _writebackFrom = end;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "posix_fadvise", SetLastError = true)]
    private static partial int PosixFadvise(int fd, long offset, long length, int advice);
}
