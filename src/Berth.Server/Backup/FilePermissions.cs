namespace Berth.Server.Backup;

/// <summary>
/// Backups hold the whole registry (token hashes, the data-protection keys, the bootstrap token): on Unix their folders
/// are readable by their owner only (0700) and their files too (0600).
/// </summary>
internal static class FilePermissions
{
    public static void RestrictDirectory(string directory)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public static void Restrict(string file)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Creates a folder (and its parents) and restricts it.</summary>
    public static string CreateDirectory(string directory)
    {
        Directory.CreateDirectory(directory);
        RestrictDirectory(directory);
        return directory;
    }
}
