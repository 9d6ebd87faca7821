namespace Berth.Core.Data.Entities;

public sealed class ModelVersion
{
    public long Id { get; set; }
    public long ModelId { get; set; }
    public RegisteredModel Model { get; set; } = null!;
    public int Number { get; set; }

    /// <summary>The normalised semantic version; unique per model. Cleared when a pending version fails.</summary>
    public string? SemVer { get; set; }

    public required string ManifestDigest { get; set; }

    /// <summary>The canonical manifest bytes (files with sizes and digests); immutable.</summary>
    public required byte[] Manifest { get; set; }
    public VersionState State { get; set; }
    public string? Stage { get; set; }
    public DateTime? StageChangedAt { get; set; }
    public string? Description { get; set; }
    public long TotalSize { get; set; }
    public int FileCount { get; set; }
    public DateTime CreatedAt { get; set; }
    public long CreatedById { get; set; }
    public User CreatedBy { get; set; } = null!;
    public DateTime? ReadyAt { get; set; }
    public DateTime? DeletedAt { get; set; }

    /// <summary>When garbage collection purged the deleted (or failed) version: its files no longer reference blobs.</summary>
    public DateTime? PurgedAt { get; set; }

    /// <summary>Bumped on every change (tags, description, stage, state); the ETag.</summary>
    public long Revision { get; set; }

    public string? RunId { get; set; }
    public string? GitRepository { get; set; }
    public string? GitCommit { get; set; }

    /// <summary>Whether the training code had uncommitted changes (from the run it was registered from, or the push).</summary>
    public bool? GitDirty { get; set; }

    /// <summary>Aliases requested at push time, comma-separated; applied when the version becomes ready.</summary>
    public string? PendingAliases { get; set; }

    public List<VersionFile> Files { get; set; } = [];
    public List<VersionMetric> Metrics { get; set; } = [];
    public List<VersionParam> Params { get; set; } = [];
    public List<VersionTag> Tags { get; set; } = [];
    public List<VersionDataset> Datasets { get; set; } = [];
    public List<VersionParent> Parents { get; set; } = [];
    public List<ModelAlias> Aliases { get; set; } = [];

    /// <summary>What Berth read inside the version's files (null until it is committed; see <see cref="VersionInsightRecord"/>).</summary>
    public VersionInsightRecord? Insight { get; set; }

    /// <summary>Deployment records of this version (the current ones: <see cref="Deployment.Current"/>).</summary>
    public List<Deployment> Deployments { get; set; } = [];
}
