namespace Berth.Client.Transfers;

/// <summary>What is at a path, looked at without following a symbolic link there.</summary>
internal enum EntryKind
{
    Missing,
    File,
    Directory,
    Link,
}

/// <summary>
/// The folder a pull writes into, touched without ever following a symbolic link inside it: every parent
/// of a file must be a real directory below the root (checked one component at a time, and created one at
/// a time), files are created under a temporary name that must not exist yet and renamed into place
/// (a rename replaces a link, it never writes through it), existing partial downloads are opened with
/// no-follow semantics, and removing a link removes the link, never what it points to. The root itself may
/// be a link: the user named it.
/// </summary>
internal sealed class TargetFolder(string root)
{
    public string Root { get; } = root;

    /// <summary>The full path of a '/'-separated path inside the folder.</summary>
    public string Full(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>What is at <paramref name="fullPath"/> (a link is reported as a link, whatever it points to).</summary>
    public static EntryKind KindOf(string fullPath)
    {
        FileAttributes attributes;
        try
        {
            attributes = File.GetAttributes(fullPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return EntryKind.Missing;
        }

        if ((attributes & FileAttributes.ReparsePoint) != 0 || new FileInfo(fullPath).LinkTarget is not null)
        {
            return EntryKind.Link;
        }

        return (attributes & FileAttributes.Directory) != 0 ? EntryKind.Directory : EntryKind.File;
    }

    /// <summary>
    /// What is at <paramref name="relative"/>: its kind, or the first parent component that is not a real
    /// directory (then the file cannot be written without replacing that component).
    /// </summary>
    public (EntryKind Kind, string? Blocker, EntryKind BlockerKind) Inspect(string relative)
    {
        var parts = relative.Split('/');
        for (var i = 0; i < parts.Length - 1; i++)
        {
            var parent = string.Join('/', parts, 0, i + 1);
            switch (KindOf(Full(parent)))
            {
                case EntryKind.Directory:
                    continue;
                case EntryKind.Missing:
                    return (EntryKind.Missing, null, EntryKind.Missing);
                case var kind:
                    return (EntryKind.Missing, parent, kind);
            }
        }

        return (KindOf(Full(relative)), null, EntryKind.Missing);
    }

    /// <summary>
    /// Makes sure every parent of <paramref name="relative"/> is a real directory, creating missing ones one
    /// level at a time. With <paramref name="replace"/>, a file or link in the way is removed (the link itself,
    /// never its target); otherwise it is an error.
    /// </summary>
    public void EnsureParents(string relative, bool replace)
    {
        var parts = relative.Split('/');
        for (var i = 0; i < parts.Length - 1; i++)
        {
            var parent = string.Join('/', parts, 0, i + 1);
            var full = Full(parent);
            var kind = KindOf(full);
            if (kind is EntryKind.File or EntryKind.Link)
            {
                if (!replace)
                {
                    throw new IOException($"'{full}' is {Describe(kind)}, where the version has a folder; Berth does not write through it.");
                }

                Remove(full);
                kind = EntryKind.Missing;
            }

            if (kind == EntryKind.Missing)
            {
                Directory.CreateDirectory(full);
                if (KindOf(full) != EntryKind.Directory)
                {
                    throw new IOException($"'{full}' changed while it was being created; Berth does not write through links.");
                }
            }
        }
    }

    /// <summary>Removes whatever is at <paramref name="fullPath"/>: a link or file is unlinked; a folder is emptied the same way, then removed.</summary>
    public static void Remove(string fullPath)
    {
        switch (KindOf(fullPath))
        {
            case EntryKind.Missing:
                return;
            case EntryKind.Directory:
                foreach (var entry in Directory.EnumerateFileSystemEntries(fullPath))
                {
                    Remove(entry);
                }

                Directory.Delete(fullPath, recursive: false);
                return;
            case EntryKind.Link when OperatingSystem.IsWindows() && Directory.Exists(fullPath):
                // A directory link (or junction) on Windows: removing the directory entry removes the link only.
                Directory.Delete(fullPath, recursive: false);
                return;
            default:
                File.Delete(fullPath);
                return;
        }
    }

    /// <summary>
    /// Removes everything below the root that <paramref name="keep"/> does not contain ('/'-separated paths of
    /// files, and of the folders that lead to them), without following links; returns the removed paths.
    /// </summary>
    public List<string> RemoveAllBut(IReadOnlySet<string> keep)
    {
        var removed = new List<string>();
        if (KindOf(Root) == EntryKind.Missing)
        {
            return removed;
        }

        Sweep(Root, "", keep, removed);
        removed.Sort(StringComparer.Ordinal);
        return removed;
    }

    private static void Sweep(string directory, string prefix, IReadOnlySet<string> keep, List<string> removed)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            var relative = prefix + Path.GetFileName(entry);
            if (!keep.Contains(relative))
            {
                Remove(entry);
                removed.Add(relative);
            }
            else if (KindOf(entry) == EntryKind.Directory)
            {
                Sweep(entry, relative + "/", keep, removed);
            }
        }
    }

    public static string Describe(EntryKind kind) => kind switch
    {
        EntryKind.Link => "a symbolic link",
        EntryKind.Directory => "a folder",
        EntryKind.File => "a file",
        _ => "missing",
    };
}
