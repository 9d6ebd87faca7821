namespace Berth.Contracts.Manifests;

/// <summary>
/// Rules for the paths of files inside a version. A path is relative, uses '/' between segments, and
/// can be written below any output directory without escaping it.
/// </summary>
public static class FilePaths
{
    public const int MaxLength = 1024;
    public const int MaxSegmentLength = 255;

    /// <summary>Returns null for a valid path, else a sentence naming the broken rule.</summary>
    public static string? Check(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "A file path is empty.";
        }

        var shown = path.Length <= 120 ? path : path[..120] + "…";
        shown = shown.Replace("\0", "\\0", StringComparison.Ordinal);
        if (path.Length > MaxLength)
        {
            return $"File path '{shown}' is longer than {MaxLength} characters.";
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return $"File path '{shown}' contains a NUL character.";
        }

        if (path.Contains('\\', StringComparison.Ordinal))
        {
            return $"File path '{shown}' contains a backslash; use '/' between directories.";
        }

        if (path[0] == '/' || (path.Length >= 2 && path[1] == ':'))
        {
            return $"File path '{shown}' is absolute; paths must be relative to the model's root.";
        }

        foreach (var c in path)
        {
            if (char.IsControl(c))
            {
                return $"File path '{shown}' contains a control character.";
            }
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0)
            {
                return $"File path '{shown}' has an empty segment ('//' or a trailing '/').";
            }

            if (segment is "." or "..")
            {
                return $"File path '{shown}' contains a '{segment}' segment.";
            }

            if (segment.Length > MaxSegmentLength)
            {
                return $"File path '{shown}' has a segment longer than {MaxSegmentLength} characters.";
            }
        }

        return null;
    }

    /// <summary>
    /// Checks a whole set of paths: each valid, none repeated (also ignoring case, so a tree can be
    /// written on case-insensitive file systems), and none both a file and a directory.
    /// </summary>
    public static string? CheckSet(IEnumerable<string> paths)
    {
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var folded = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var all = new List<string>();
        foreach (var path in paths)
        {
            if (Check(path) is { } error)
            {
                return error;
            }

            if (!exact.Add(path))
            {
                return $"File path '{path}' is listed more than once.";
            }

            if (!folded.Add(path))
            {
                return $"File path '{path}' differs from another path only in letter case.";
            }

            all.Add(path);
        }

        foreach (var path in all)
        {
            for (var slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
            {
                if (folded.Contains(path[..slash]))
                {
                    return $"File path '{path[..slash]}' is both a file and a directory (of '{path}').";
                }
            }
        }

        return null;
    }
}
