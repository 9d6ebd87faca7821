using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Core.Blobs;

/// <summary>
/// Durability helpers .NET lacks: fsync of a directory (so that a rename or a new file inside it
/// survives a power loss), and early writeback of file ranges.
/// </summary>
internal static partial class DiskSync
{
    private const int ReadOnly = 0;

    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        var fd = Open(directory, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (FSync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private const uint SyncFileRangeWaitBefore = 1;
    private const uint SyncFileRangeWrite = 2;
    private const uint SyncFileRangeWaitAfter = 4;
    private const int FadviseDontNeed = 4;

    /// <summary>
    /// Starts writing back a range of a file without waiting (Linux <c>sync_file_range</c>), so that the
    /// fsync at the end of a large upload finds little left to do. Elsewhere this does nothing.
    /// </summary>
    public static void StartWriteback(SafeFileHandle handle, long offset, long count) =>
        WithDescriptor(handle, fd => SyncFileRange(fd, offset, count, SyncFileRangeWrite));

    /// <summary>
    /// Waits until a range has reached the disk, then lets the kernel drop it from the page cache: a
    /// multi-gigabyte upload then recycles a few megabytes of cache instead of filling memory with
    /// bytes nobody is about to read.
    /// </summary>
    public static void FinishWriteback(SafeFileHandle handle, long offset, long count) =>
        WithDescriptor(handle, fd =>
        {
            _ = SyncFileRange(fd, offset, count, SyncFileRangeWaitBefore | SyncFileRangeWrite | SyncFileRangeWaitAfter);
            return PosixFadvise(fd, offset, count, FadviseDontNeed);
        });

    private static void WithDescriptor(SafeFileHandle handle, Func<int, int> call)
    {
        if (!OperatingSystem.IsLinux())
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

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
