using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Client.Transfers;

/// <summary>
/// Opens an existing file without following a symbolic link at its last component (<c>O_NOFOLLOW</c>), and
/// holds an exclusive lock on it, as <see cref="FileShare.None"/> does, so that two pulls never write the same
/// partial download. .NET has no option for either on an existing file, hence the few system calls here.
/// Where they are not available (Windows), the link check is done just before opening.
/// </summary>
internal static partial class NoFollow
{
    private const int ReadWrite = 2;
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int NoSuchFile = 2;
    private const int LinkLoopLinux = 40;
    private const int LinkLoopMac = 62;

    /// <summary>
    /// Opens <paramref name="path"/> for reading and writing, or returns null when nothing is there. Throws
    /// <see cref="IOException"/> when it is a symbolic link or another process holds it.
    /// </summary>
    public static SafeFileHandle? OpenExisting(string path)
    {
        if (Flags() is not { } flags)
        {
            var kind = TargetFolder.KindOf(path);
            if (kind == EntryKind.Missing)
            {
                return null;
            }

            if (kind != EntryKind.File)
            {
                throw new IOException($"'{path}' is not a regular file; Berth does not write through links.");
            }

            return File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous);
        }

        var fd = Open(path, flags, 0);
        if (fd < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            return error switch
            {
                NoSuchFile => null,
                LinkLoopLinux when OperatingSystem.IsLinux() => throw new IOException($"'{path}' is a symbolic link; Berth does not write through links."),
                LinkLoopMac when OperatingSystem.IsMacOS() => throw new IOException($"'{path}' is a symbolic link; Berth does not write through links."),
                _ => throw new IOException($"Cannot open '{path}': {Marshal.GetPInvokeErrorMessage(error)}."),
            };
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (FLock(fd, LockExclusive | LockNonBlocking) != 0)
        {
            handle.Dispose();
            throw new IOException($"Another process (another pull into the same folder?) is writing '{path}'.");
        }

        return handle;
    }

    /// <summary>Open flags for read-write, no-follow, close-on-exec; null where this is not a known Unix.</summary>
    private static int? Flags()
    {
        if (OperatingSystem.IsLinux())
        {
            // O_NOFOLLOW is 0100000 on ARM and PowerPC, 0400000 elsewhere (asm-generic); O_CLOEXEC is 02000000 on all of them.
            var noFollow = RuntimeInformation.OSArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 or Architecture.Ppc64le
                ? 0x8000
                : 0x20000;
            return ReadWrite | noFollow | 0x80000;
        }

        if (OperatingSystem.IsMacOS())
        {
            return ReadWrite | 0x100 | 0x1000000;
        }

        return null;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int FLock(int fd, int operation);
}
