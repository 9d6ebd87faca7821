using System.Text.RegularExpressions;
using Berth.Contracts.Naming;

namespace Berth.Core.Oci;

/// <summary>
/// OCI repository names and tags, and how they map onto Berth: a model <c>ns/model</c> is the repository
/// <c>ns/model</c>, and its model car images are the repository <c>ns/model/modelcar</c>.
/// </summary>
public static partial class OciNames
{
    public const string ModelcarSuffix = "modelcar";

    /// <summary>The distribution spec's tag rule.</summary>
    [GeneratedRegex("^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagRegex();

    /// <summary>The distribution spec's repository name rule.</summary>
    [GeneratedRegex("^[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    public static bool IsValidTag(string? tag) => tag is not null && TagRegex().IsMatch(tag);

    public static bool IsValidName(string? name) => name is { Length: > 0 and <= 255 } && NameRegex().IsMatch(name);

    /// <summary>
    /// Splits a repository name into Berth's namespace and model (and whether it is the model car repository), or
    /// explains why it names no Berth repository.
    /// </summary>
    public static bool TryParseRepository(string name, out OciRepositoryName repository, out string? error)
    {
        repository = default;
        error = null;
        if (!IsValidName(name))
        {
            error = $"'{Names.Show(name)}' is not a valid repository name.";
            return false;
        }

        var parts = name.Split('/');
        var modelcar = parts.Length == 3 && parts[2] == ModelcarSuffix;
        if (parts.Length != 2 && !modelcar)
        {
            error = $"Repository '{Names.Show(name)}' does not exist: Berth's repositories are <namespace>/<model> and <namespace>/<model>/{ModelcarSuffix}.";
            return false;
        }

        if (Names.CheckNamespace(parts[0]) is { } nsError)
        {
            error = nsError;
            return false;
        }

        if (Names.CheckModel(parts[1]) is { } modelError)
        {
            error = modelError;
            return false;
        }

        repository = new OciRepositoryName(parts[0], parts[1], modelcar);
        return true;
    }
}

/// <summary>A parsed repository name.</summary>
public readonly record struct OciRepositoryName(string Namespace, string Model, bool Modelcar)
{
    public override string ToString() => Modelcar ? $"{Namespace}/{Model}/{OciNames.ModelcarSuffix}" : $"{Namespace}/{Model}";
}
