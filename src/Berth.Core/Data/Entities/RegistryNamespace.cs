namespace Berth.Core.Data.Entities;

public sealed class RegistryNamespace
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }

    public DateTime CreatedAt { get; set; }
    public long CreatedById { get; set; }
    public DateTime? DeletedAt { get; set; }

    /// <summary>The storage quota: the most logical bytes its versions may hold (null: unlimited). See <see cref="UsedBytes"/>.</summary>
    public long? MaxBytes { get; set; }

    /// <summary>The version quota: the most versions it may hold (null: unlimited). See <see cref="VersionCount"/>.</summary>
    public long? MaxVersions { get; set; }

    /// <summary>
    /// The namespace's usage: the sum of the sizes of the files of its pending and ready versions in models that are not
    /// deleted (logical bytes: a blob shared by two versions counts twice). Kept exact by every change of a version's
    /// state, in the same transaction and under the namespace's row lock (<see cref="Registry.NamespaceUsage"/>).
    /// </summary>
    public long UsedBytes { get; set; }

    /// <summary>How many pending and ready versions its models that are not deleted hold.</summary>
    public long VersionCount { get; set; }
    /// <summary>The pickle-scanning policy: <c>off</c>, <c>warn</c> or <c>block</c> (Contracts' ScanPolicies); null is the default, warn.</summary>
    public string? ScanPolicy { get; set; }

    public List<RegisteredModel> Models { get; set; } = [];
}
