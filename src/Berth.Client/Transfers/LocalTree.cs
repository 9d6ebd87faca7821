using Berth.Contracts.Manifests;

namespace Berth.Client.Transfers;

/// <summary>
/// Lists the files of a model folder (or one file). Symbolic links are followed (model folders such as
/// Hugging Face snapshots are made of them) with loop protection; <c>.git</c> folders and Berth's own
/// partial downloads are skipped.
/// </summary>
public static class LocalTree
{
    public static IReadOnlyList<LocalFile> Scan(string source)
    {
        var full = Path.GetFullPath(source);
        if (File.Exists(full))
        {
            var info = Resolve(new FileInfo(full));
            return [new LocalFile(FilePaths.Normalize(Path.GetFileName(full)), full, info.Length, info.LastWriteTimeUtc)];
        }

        if (!Directory.Exists(full))
        {
            throw new FileNotFoundException($"'{source}' is neither a file nor a folder.", source);
        }

        var files = new List<LocalFile>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        Walk(new DirectoryInfo(full), "", files, visited);
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        if (FilePaths.CheckSet(files.Select(f => f.Path)) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        return files;
    }

    private static void Walk(DirectoryInfo directory, string prefix, List<LocalFile> files, HashSet<string> visited)
    {
        var real = directory.LinkTarget is null ? directory.FullName : directory.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? directory.FullName;
        if (!visited.Add(real))
        {
            return;
        }

        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            // NFC, as the server requires: macOS may hand out decomposed names; the file is still opened by its own name.
            var path = prefix + FilePaths.Normalize(entry.Name);
            switch (entry)
            {
                case DirectoryInfo child when child.Name != ".git":
                    Walk(child, path + "/", files, visited);
                    break;
                case FileInfo file when !file.Name.EndsWith(BerthClient.PartialSuffix, StringComparison.Ordinal):
                    var target = Resolve(file);
                    if (target.Exists)
                    {
                        files.Add(new LocalFile(path, file.FullName, target.Length, target.LastWriteTimeUtc));
                    }
                    else if (Directory.Exists(target.FullName))
                    {
                        Walk(new DirectoryInfo(target.FullName), path + "/", files, visited);
                    }

                    break;
            }
        }
    }

    private static FileInfo Resolve(FileInfo file) =>
        file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? new FileInfo(file.FullName);
}
