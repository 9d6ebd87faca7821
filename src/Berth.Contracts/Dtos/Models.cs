namespace Berth.Contracts.Dtos;

/// <summary>
/// A namespace. <paramref name="UsedBytes"/> and <paramref name="UsedVersions"/> are its usage: the declared sizes of the
/// files of its pending and ready versions (logical bytes: shared blobs count once per version), and how many there are;
/// <paramref name="MaxBytes"/> and <paramref name="MaxVersions"/> its quotas (null: unlimited).
/// </summary>
public sealed record NamespaceInfo(
    string Name,
    string? Description,
    DateTimeOffset CreatedAt,
    int ModelCount,
    IReadOnlyList<string> Stages,
    long UsedBytes,
    long UsedVersions,
    long? MaxBytes,
    long? MaxVersions);

/// <summary>A namespace's storage quotas (null: unlimited) and its usage (see <see cref="NamespaceInfo"/>).</summary>
public sealed record QuotaInfo(string Namespace, long? MaxBytes, long? MaxVersions, long UsedBytes, long UsedVersions);

/// <summary>Sets both quotas of a namespace (server administrators); null is unlimited.</summary>
public sealed record SetQuotaRequest(long? MaxBytes = null, long? MaxVersions = null);

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
