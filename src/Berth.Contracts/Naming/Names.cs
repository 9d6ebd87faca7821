using System.Text.RegularExpressions;

namespace Berth.Contracts.Naming;

/// <summary>
/// The naming rules of Berth, in one place. Each <c>Check…</c> method returns null when the value is
/// valid, or a sentence that names the rule it breaks (used verbatim in 400 responses and CLI errors).
/// </summary>
public static partial class Names
{
    public const int NamespaceMinLength = 2;
    public const int NamespaceMaxLength = 64;
    public const int ModelMaxLength = 128;
    public const int AliasMaxLength = 64;
    public const int StageMaxLength = 32;
    public const int KeyMaxLength = 128;
    public const int TagValueMaxLength = 1024;
    public const int ParamValueMaxLength = 6000;
    public const int DescriptionMaxLength = 65536;
    public const string Latest = "latest";

    /// <summary>
    /// Namespace names that new namespaces may not take, because the web UI's or the API's routes would shadow
    /// <c>/{namespace}</c>: the API and protocol prefixes, the operational endpoints, and every top-level page of
    /// the UI (those that exist and those planned). Existing namespaces with such a name keep working through the API.
    /// </summary>
    public static readonly IReadOnlySet<string> ReservedNamespaces = new HashSet<string>(StringComparer.Ordinal)
    {
        "api", "v2", "static", "healthz", "readyz", "metrics",
        "signin", "signout", "password", "compare", "requests", "audit", "settings", "search",
        "new", "users", "teams", "namespaces", "models", "tokens", "admin", "help", "about", "docs", "error",
        "login", "logout", "oidc", "favicon.ico", "robots.txt",
    };

    /// <summary>The default ordered stage list of a namespace.</summary>
    public static readonly IReadOnlyList<string> DefaultStages = ["development", "staging", "production", "archived"];

    [GeneratedRegex("^[a-z0-9]+(?:[-_.][a-z0-9]+)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex SegmentRegex();

    [GeneratedRegex("^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex AliasRegex();

    [GeneratedRegex("^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex StageRegex();

    [GeneratedRegex("^v[0-9]", RegexOptions.CultureInvariant)]
    private static partial Regex VersionLikeRegex();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.\\-/]*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex KeyRegex();

    public static string? CheckNamespace(string? value) =>
        value is { Length: >= NamespaceMinLength and <= NamespaceMaxLength } && SegmentRegex().IsMatch(value)
            ? null
            : $"Invalid namespace '{Show(value)}': use {NamespaceMinLength}-{NamespaceMaxLength} lowercase letters and digits, with single '-', '_' or '.' between them (e.g. 'acme' or 'risk-team').";

    /// <summary>The rule for a namespace being created: <see cref="CheckNamespace"/>, and not one of <see cref="ReservedNamespaces"/>.</summary>
    public static string? CheckNewNamespace(string? value) =>
        CheckNamespace(value) ?? (ReservedNamespaces.Contains(value!)
            ? $"Invalid namespace '{value}': the name is reserved, because the web UI or the API uses /{value} (reserved: {string.Join(", ", ReservedNamespaces.Order(StringComparer.Ordinal))})."
            : null);

    public static string? CheckModel(string? value) =>
        value is { Length: >= 1 and <= ModelMaxLength } && SegmentRegex().IsMatch(value)
            ? null
            : $"Invalid model name '{Show(value)}': use 1-{ModelMaxLength} lowercase letters and digits, with single '-', '_' or '.' between them (e.g. 'fraud-detector').";

    /// <summary>
    /// An alias is a lowercase name that starts with a letter and cannot be confused with any other
    /// selector: not <c>latest</c>, not a stage, not a number, semantic version (<c>v1…</c>) or digest.
    /// </summary>
    public static string? CheckAlias(string? value, IEnumerable<string>? stages = null)
    {
        if (value is not { Length: >= 1 and <= AliasMaxLength } || !AliasRegex().IsMatch(value))
        {
            return $"Invalid alias '{Show(value)}': use 1-{AliasMaxLength} lowercase letters, digits, '-', '_' or '.', starting with a letter (e.g. 'champion').";
        }

        if (string.Equals(value, Latest, StringComparison.Ordinal))
        {
            return "Invalid alias 'latest': it is reserved for the newest ready version.";
        }

        if (VersionLikeRegex().IsMatch(value))
        {
            return $"Invalid alias '{value}': an alias may not look like a version ('v' followed by a digit).";
        }

        if ((stages ?? DefaultStages).Contains(value, StringComparer.Ordinal))
        {
            return $"Invalid alias '{value}': it is the name of a stage; stages and aliases share the selector space.";
        }

        return null;
    }

    /// <summary>Deployment environments (e.g. <c>prod-eu</c>): the same rule as namespaces, 1-64 characters.</summary>
    public static string? CheckEnvironment(string? value) =>
        value is { Length: >= 1 and <= NamespaceMaxLength } && SegmentRegex().IsMatch(value)
            ? null
            : $"Invalid environment '{Show(value)}': use 1-{NamespaceMaxLength} lowercase letters and digits, with single '-', '_' or '.' between them (e.g. 'prod-eu').";

    public static string? CheckStage(string? value) =>
        value is { Length: >= 1 and <= StageMaxLength } && StageRegex().IsMatch(value) &&
        !string.Equals(value, Latest, StringComparison.Ordinal) && !VersionLikeRegex().IsMatch(value)
            ? null
            : $"Invalid stage '{Show(value)}': use 1-{StageMaxLength} lowercase letters, digits, '-' or '_', starting with a letter; not 'latest' and not like a version.";

    /// <summary>Keys of tags, metrics and params: letters, digits, '_', '.', '-', '/'; 1-128 characters.</summary>
    public static string? CheckKey(string kind, string? value) =>
        value is { Length: >= 1 and <= KeyMaxLength } && KeyRegex().IsMatch(value)
            ? null
            : $"Invalid {kind} name '{Show(value)}': use 1-{KeyMaxLength} letters, digits, '_', '.', '-' or '/', not starting with a punctuation character.";

    public static string? CheckTagValue(string key, string? value) =>
        value is null ? $"Tag '{key}' has no value." :
        value.Length > TagValueMaxLength ? $"Tag '{key}' is longer than {TagValueMaxLength} characters." :
        HasControlCharacters(value) ? $"Tag '{key}' contains control characters." : null;

    public static string? CheckParamValue(string key, string? value) =>
        value is null ? $"Param '{key}' has no value." :
        value.Length > ParamValueMaxLength ? $"Param '{key}' is longer than {ParamValueMaxLength} characters." : null;

    internal static bool HasControlCharacters(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The value as quoted in an error message (truncated).</summary>
    public static string Show(string? value) =>
        value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";
}
