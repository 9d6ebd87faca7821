using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Interop;

/// <summary>
/// Control over how written file data moves through the page cache (Linux only; elsewhere a no-op).
/// Shared as source by the server's blob store and the SDK, which have no project in common.
/// </summary>
internal static partial class PageCache
{
    private const uint WaitBefore = 1;
    private const uint Write = 2;
    private const uint WaitAfter = 4;
    private const int DontNeed = 4;

    /// <summary>Starts writing back a range without waiting (<c>sync_file_range</c>).</summary>
    public static void StartWriteback(SafeFileHandle handle, long offset, long count) =>
        WithDescriptor(handle, fd => SyncFileRange(fd, offset, count, Write));

    /// <summary>Waits until a range is on disk, then lets the kernel drop it from the cache.</summary>
    public static void FinishWriteback(SafeFileHandle handle, long offset, long count) =>
        WithDescriptor(handle, fd =>
        {
            _ = SyncFileRange(fd, offset, count, WaitBefore | Write | WaitAfter);
            return PosixFadvise(fd, offset, count, DontNeed);
        });

    private static void WithDescriptor(SafeFileHandle handle, Func<int, int> call)
    {
        if (!OperatingSystem.IsLinux() || handle.IsInvalid)
        {
            return;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = call((int)handle.DangerousGetHandle());
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
