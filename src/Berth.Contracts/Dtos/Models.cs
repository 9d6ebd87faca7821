namespace Berth.Contracts.Dtos;

public sealed record NamespaceInfo(string Name, string? Description, DateTimeOffset CreatedAt, int ModelCount, IReadOnlyList<string> Stages);

public sealed record CreateNamespaceRequest(string Name, string? Description = null);

public sealed record ModelInfo(
    string Namespace,
    string Name,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int VersionCount,
    int? LatestVersion,
    IReadOnlyDictionary<string, int> Aliases,
    IReadOnlyDictionary<string, int> Stages,
    long Revision)
{
    public string FullName => $"{Namespace}/{Name}";
}

public sealed record CreateModelRequest(string Name, string? Description = null, IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>Changes a model's description and tags. Fields left null are unchanged.</summary>
public sealed record UpdateModelRequest(
    string? Description = null,
    IReadOnlyDictionary<string, string>? SetTags = null,
    IReadOnlyList<string>? RemoveTags = null);
