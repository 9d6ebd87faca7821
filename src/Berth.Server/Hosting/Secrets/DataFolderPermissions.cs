using Berth.Core.Common;

namespace Berth.Server.Hosting.Secrets;

/// <summary>
/// Takes from group and others every permission on the server's files: the data folder and what is directly in it
/// (database, WAL, admin token, key file, lock files, berth.json) and the blob store's folders.
/// When one of those was open, every file below them is checked too (a data folder from before Berth created its files
/// private; afterwards a start looks only at the top). Unix only.
/// </summary>
internal static class DataFolderPermissions
{
    /// <summary>What was tightened, and what could not be (a read-only mount, another owner).</summary>
    public sealed record Result(IReadOnlyList<string> Fixed, IReadOnlyList<string> Failed);

    public static Result Tighten(string dataFolder, string? storeFolder)
    {
        var fixedPaths = new List<string>();
        var failed = new List<string>();
        if (OperatingSystem.IsWindows() || !Directory.Exists(dataFolder))
        {
            return new Result(fixedPaths, failed);
        }

        var top = new List<string> { dataFolder };
        top.AddRange(Directory.EnumerateFileSystemEntries(dataFolder));
        if (storeFolder is not null)
        {
            top.AddRange(new[] { storeFolder, Path.Combine(storeFolder, "blobs"), Path.Combine(storeFolder, "blobs", "sha256"), Path.Combine(storeFolder, "uploads") }.Where(Directory.Exists));
        }

        foreach (var path in top.Distinct(StringComparer.Ordinal))
        {
            Tighten(path, fixedPaths, failed);
        }

        if (fixedPaths.Count > 0)
        {
            // Open at the top: files made before Berth created them private may be open below too.
            foreach (var root in new[] { dataFolder, storeFolder }.OfType<string>().Where(Directory.Exists).Distinct(StringComparer.Ordinal))
            {
                var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
                foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", options))
                {
                    Tighten(path, fixedPaths, failed);
                }
            }
        }

        return new Result([.. fixedPaths.Distinct(StringComparer.Ordinal)], failed);
    }

    private static void Tighten(string path, List<string> fixedPaths, List<string> failed)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                return; // A symbolic link: its target is someone else's to set.
            }

            var mode = File.GetUnixFileMode(path);
            if ((mode & PrivateFiles.OthersMask) == 0)
            {
                return;
            }

            File.SetUnixFileMode(path, mode & ~PrivateFiles.OthersMask);
            fixedPaths.Add(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failed.Add(path);
        }
    }
}
