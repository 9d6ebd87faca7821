namespace Berth.Core.Blobs;

/// <summary>
/// Recognises a write that failed because the disk (or the user's quota) is full. .NET raises an
/// <see cref="IOException"/> whose <see cref="Exception.HResult"/> is the errno on Unix (ENOSPC, EDQUOT) and
/// the HRESULT of the Win32 error on Windows (ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL).
/// </summary>
public static class DiskFull
{
    private const int Enospc = 28;
    private const int EdquotLinux = 122;
    private const int EdquotBsd = 69;
    private const int ErrorDiskFull = unchecked((int)0x80070070);
    private const int ErrorHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>True when <paramref name="exception"/> or one of its inner exceptions is an out-of-space I/O error.</summary>
    public static bool Is(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is IOException io && IsDiskFullCode(io.HResult))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsDiskFullCode(int code) => OperatingSystem.IsWindows()
        ? code is ErrorDiskFull or ErrorHandleDiskFull
        : code == Enospc || code == (OperatingSystem.IsLinux() ? EdquotLinux : EdquotBsd);
}
