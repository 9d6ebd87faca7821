using System.Globalization;
using System.Text;

namespace Berth.Contracts.Manifests;

/// <summary>
/// Rules for the paths of files inside a version. Every path is relative, uses '/' between segments, and can be
/// written below any output directory without escaping it (<see cref="Check"/>). The paths of a new version must
/// also materialise identically on Linux, macOS and Windows (<see cref="CheckPortable"/>, <see cref="Validate"/>):
/// <list type="bullet">
/// <item>Unicode in NFC (macOS stores and compares names normalised; <c>café</c> in NFC and NFD would be one file);</item>
/// <item>no control, format (bidi overrides, zero-width characters) or separator characters, no lone surrogates;</item>
/// <item>none of the characters Windows forbids (<c>&lt; &gt; : " | ? *</c>, and the backslash);</item>
/// <item>no segment ending in a dot or a space (Windows drops them), none named after a Windows device (<c>CON</c>,
/// <c>PRN</c>, <c>AUX</c>, <c>NUL</c>, <c>COM0</c>-<c>COM9</c>, <c>LPT0</c>-<c>LPT9</c>, with superscript digits,
/// <c>CONIN$</c>, <c>CONOUT$</c>), in any case and with any extension (<c>aux.txt</c>);</item>
/// <item>segments of at most 255 UTF-8 bytes (the name limit of Linux and macOS file systems);</item>
/// <item>no two paths, and no two folders, equal under Unicode full case folding and canonical equivalence
/// (<see cref="CollisionKey"/>: <c>K</c> and <c>k</c>, <c>straße</c> and <c>STRASSE</c>), and no path both a file
/// and a folder.</item>
/// </list>
/// Readers accept any path that passes <see cref="Check"/>, so versions pushed before a rule existed stay readable.
/// </summary>
public static class FilePaths
{
    public const int MaxLength = 1024;

    /// <summary>The longest segment: 255 UTF-16 characters for <see cref="Check"/>, 255 UTF-8 bytes for <see cref="CheckPortable"/>.</summary>
    public const int MaxSegmentLength = 255;

    /// <summary>How many offending paths a <see cref="PathProblem"/> lists at most.</summary>
    public const int MaxListedPaths = 100;

    private static readonly HashSet<string> DeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM\u00B9", "COM\u00B2", "COM\u00B3",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT\u00B9", "LPT\u00B2", "LPT\u00B3",
    };

    private const string WindowsForbidden = "<>:\"|?*";

    /// <summary>
    /// The safety rule every path read from a version passes: returns null for a valid path, else a sentence naming
    /// the broken rule. A path that passes is relative and stays below the folder it is written into.
    /// </summary>
    public static string? Check(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "A file path is empty.";
        }

        var shown = Show(path);
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
    /// <see cref="Check"/> and the portability rules for one path of a new version (see the class summary);
    /// null when it passes, else a sentence naming the broken rule.
    /// </summary>
    public static string? CheckPortable(string? path)
    {
        if (Check(path) is { } unsafePath)
        {
            return unsafePath;
        }

        var shown = Show(path!);
        for (var i = 0; i < path!.Length; i++)
        {
            if (Rune.DecodeFromUtf16(path.AsSpan(i), out var rune, out var used) != System.Buffers.OperationStatus.Done)
            {
                return $"File path '{shown}' is not valid Unicode (a lone surrogate at character {i + 1}).";
            }

            i += used - 1;
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return $"File path '{shown}' contains the invisible or control character U+{rune.Value:X4}; such characters (bidi overrides, zero-width spaces…) make names that look alike but differ.";
            }

            if (rune.IsAscii && WindowsForbidden.Contains((char)rune.Value, StringComparison.Ordinal))
            {
                return $"File path '{shown}' contains '{(char)rune.Value}', which Windows does not allow in file names.";
            }
        }

        if (!UnicodeNormalization.IsNfc(path))
        {
            return $"File path '{shown}' is not in Unicode normalisation form C (NFC); send '{Show(UnicodeNormalization.ToNfc(path))}' instead, which macOS would make of it anyway.";
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment[^1] is '.' or ' ')
            {
                return $"File path '{shown}' has a segment ending in {(segment[^1] == '.' ? "a dot" : "a space")} ('{Show(segment)}'), which Windows drops.";
            }

            var dot = segment.IndexOf('.', StringComparison.Ordinal);
            var stem = (dot < 0 ? segment : segment[..dot]).TrimEnd(' ');
            if (DeviceNames.Contains(stem))
            {
                return $"File path '{shown}' has a segment '{Show(segment)}' that Windows reserves for the device {stem.ToUpperInvariant()} (with any extension).";
            }

            if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentLength)
            {
                return $"File path '{shown}' has a segment longer than {MaxSegmentLength} bytes in UTF-8 (the limit of Linux and macOS file systems).";
            }
        }

        return null;
    }

    /// <summary>
    /// Checks a whole set of paths for a new version: each <see cref="CheckPortable"/>, none listed twice, no two
    /// files or folders the same under <see cref="CollisionKey"/>, none both a file and a folder. Null when they pass.
    /// </summary>
    public static string? CheckSet(IEnumerable<string> paths) => Validate(paths)?.Message;

    /// <summary>Like <see cref="CheckSet"/>, with the offending paths (up to <see cref="MaxListedPaths"/>).</summary>
    public static PathProblem? Validate(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        string? first = null;
        var offending = new List<string>();
        var exact = new HashSet<string>(StringComparer.Ordinal);

        // Every file and every folder by its collision key: the exact name that claimed the key, whether a file did, and
        // the path that brought it (which a problem names).
        var claimed = new Dictionary<string, (string Exact, bool File, string Path)>(StringComparer.Ordinal);
        var key = new StringBuilder();
        foreach (var path in paths)
        {
            if (CheckPortable(path) is { } error)
            {
                Note(ref first, offending, error, path);
                continue;
            }

            if (!exact.Add(path))
            {
                Note(ref first, offending, $"File path '{Show(path)}' is listed more than once.", path);
                continue;
            }

            key.Clear();
            var start = 0;
            while (start <= path.Length)
            {
                var slash = path.IndexOf('/', start);
                var end = slash < 0 ? path.Length : slash;
                if (key.Length > 0)
                {
                    key.Append('/');
                }

                key.Append(SegmentKey(path[start..end]));
                var isFile = slash < 0;
                var name = path[..end];
                var folded = key.ToString();
                if (!claimed.TryGetValue(folded, out var other))
                {
                    claimed[folded] = (name, isFile, path);
                }
                else if (!string.Equals(other.Exact, name, StringComparison.Ordinal))
                {
                    Note(ref first, offending,
                        $"File paths '{Show(other.Path)}' and '{Show(path)}' would be the same {(isFile && other.File ? "file" : "name")} on macOS and Windows: '{Show(other.Exact)}' and '{Show(name)}' differ only in letter case or Unicode form. Rename one.",
                        other.Path, path);
                    break;
                }
                else if (isFile || other.File)
                {
                    Note(ref first, offending, $"File path '{Show(name)}' is both a file and a directory (of '{Show(isFile ? other.Path : path)}').", other.Path, path);
                    break;
                }

                start = end + 1;
            }
        }

        return first is null ? null : new PathProblem(first, offending);
    }

    /// <summary>
    /// The key under which two portable paths would be the same on some file system: canonical decomposition, full
    /// case folding, canonical decomposition again (Unicode's canonical caseless match), segment by segment.
    /// </summary>
    public static string CollisionKey(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return string.Join('/', path.Split('/').Select(SegmentKey));
    }

    /// <summary>
    /// The name in NFC when that is a lossless change of representation (what a client sends for a name read from a
    /// file system that hands out decomposed names, like macOS's HFS+); the name unchanged when it is not valid Unicode.
    /// </summary>
    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsSurrogate(name[i]) && !char.IsSurrogatePair(name, i++))
            {
                return name;
            }
        }

        return UnicodeNormalization.ToNfc(name);
    }

    private static string SegmentKey(string segment) =>
        System.Text.Ascii.IsValid(segment)
            ? segment.ToLowerInvariant()
            : UnicodeNormalization.ToNfd(CaseFolding.Fold(UnicodeNormalization.ToNfd(segment)));

    private static void Note(ref string? first, List<string> offending, string message, params string[] paths)
    {
        first ??= message;
        foreach (var path in paths)
        {
            if (offending.Count < MaxListedPaths && !offending.Contains(path, StringComparer.Ordinal))
            {
                offending.Add(path);
            }
        }
    }

    /// <summary>A path as a message shows it: at most 120 characters, invisible and control characters (and lone surrogates) as \uXXXX.</summary>
    private static string Show(string path)
    {
        var text = path.Length <= 120 ? path : path[..120] + "…";
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (char.IsSurrogate(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}

/// <summary>Why a set of paths was refused: the first broken rule and the paths that break rules.</summary>
public sealed record PathProblem(string Message, IReadOnlyList<string> Paths);
