namespace Berth.Core.Tests.Properties;

/// <summary>
/// The grammars of docs/api.md, DESIGN.md and semver.org written out again, character by character and without regular
/// expressions, as the independent judge the parsers' answers are held against.
/// </summary>
internal static class Grammar
{
    public const string Hex = "0123456789abcdef";

    /// <summary>Lowercase letters and digits in runs, joined by single '-', '_' or '.'.</summary>
    public static bool IsSegment(string s)
    {
        if (s.Length == 0 || !IsLowerOrDigit(s[0]) || !IsLowerOrDigit(s[^1]))
        {
            return false;
        }

        for (var i = 0; i < s.Length; i++)
        {
            if (!IsLowerOrDigit(s[i]) && !(s[i] is '-' or '_' or '.' && IsLowerOrDigit(s[i - 1]) && IsLowerOrDigit(s[i + 1])))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsNamespace(string s) => IsSegment(s) && s.Length is >= 2 and <= 64;

    public static bool IsModel(string s) => IsSegment(s) && s.Length is >= 1 and <= 128;

    /// <summary>An alias: starts with a letter, not 'latest', not like a version, not a default stage.</summary>
    public static bool IsAlias(string s, IEnumerable<string> stages) =>
        IsNameSelector(s) && s != "latest" && !stages.Contains(s);

    /// <summary>A name a selector may be (an alias or a stage): an alias without the stage rule.</summary>
    public static bool IsNameSelector(string s) =>
        s.Length is >= 1 and <= 64 && s[0] is >= 'a' and <= 'z' && IsSegment(s) && !LooksLikeVersion(s);

    public static bool IsStage(string s) =>
        s.Length is >= 1 and <= 32 && s[0] is >= 'a' and <= 'z' && IsSegment(s) && !s.Contains('.', StringComparison.Ordinal) && s != "latest" && !LooksLikeVersion(s);

    public static bool IsKey(string s) =>
        s.Length is >= 1 and <= 128 && (char.IsAsciiLetterOrDigit(s[0]) || s[0] == '_') && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '/');

    public static bool IsDigest(string s) =>
        s.Length == 71 && s.StartsWith("sha256:", StringComparison.Ordinal) && s[7..].All(c => Hex.Contains(c, StringComparison.Ordinal));

    /// <summary>'latest', a digest, a number without leading zeros (at most 9 digits), a semantic version (with or without 'v'), or a name.</summary>
    public static bool IsSelector(string s) =>
        s == "latest"
        || (s.StartsWith("sha256:", StringComparison.Ordinal) ? IsDigest(s)
        : s.Length > 0 && char.IsAsciiDigit(s[0]) && !s.Contains('.', StringComparison.Ordinal) ? s.Length <= 9 && s[0] != '0' && s.All(char.IsAsciiDigit)
        : (s.Length > 0 && char.IsAsciiDigit(s[0])) || LooksLikeVersion(s) ? IsVersion(s)
        : IsNameSelector(s));

    /// <summary><c>[namespace/]model[:selector]</c> or <c>[namespace/]model@sha256:&lt;hex&gt;</c>.</summary>
    public static bool IsReference(string s)
    {
        var at = s.IndexOf('@', StringComparison.Ordinal);
        var colon = s.IndexOf(':', StringComparison.Ordinal);
        var (path, selectorOk) = at >= 0 ? (s[..at], IsDigest(s[(at + 1)..]))
            : colon >= 0 ? (s[..colon], IsSelector(s[(colon + 1)..]))
            : (s, true);
        var parts = path.Split('/');
        return selectorOk && parts.Length switch
        {
            1 => IsModel(parts[0]),
            2 => IsNamespace(parts[0]) && IsModel(parts[1]),
            _ => false,
        };
    }

    /// <summary>semver.org §2 and §9 (build metadata is not supported by Berth), with an optional leading 'v'; at most 128 characters, core numbers of at most 18 digits.</summary>
    public static bool IsVersion(string text)
    {
        if (text.Length > 128)
        {
            return false;
        }

        var body = text.StartsWith('v') ? text[1..] : text;
        var dash = body.IndexOf('-', StringComparison.Ordinal);
        var core = (dash < 0 ? body : body[..dash]).Split('.');
        if (core.Length != 3 || !core.All(n => IsNumber(n) && n.Length <= 18))
        {
            return false;
        }

        return dash < 0 || body[(dash + 1)..].Split('.').All(id =>
            id.Length > 0 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && (!id.All(char.IsAsciiDigit) || IsNumber(id)));
    }

    private static bool IsNumber(string s) => s.Length > 0 && s.All(char.IsAsciiDigit) && (s == "0" || s[0] != '0');

    private static bool LooksLikeVersion(string s) => s.Length >= 2 && s[0] == 'v' && char.IsAsciiDigit(s[1]);

    private static bool IsLowerOrDigit(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
