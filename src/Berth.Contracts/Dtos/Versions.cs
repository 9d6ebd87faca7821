namespace Berth.Contracts.Dtos;

public static class VersionStates
{
    public const string Pending = "pending";
    public const string Ready = "ready";
    public const string Failed = "failed";
    public const string Deleted = "deleted";
}

public sealed record FileEntry(string Path, long Size, string Digest, string? MediaType = null);

public sealed record DatasetRef(string Uri, string? Digest = null);

/// <summary>
/// Where a version came from. <c>RunId</c> is a run of the same model (the version was registered from it);
/// <c>GitDirty</c>: the code had uncommitted changes. Parents are references to other versions (e.g. acme/base:3).
/// </summary>
public sealed record Lineage(
    string? RunId = null,
    string? GitRepository = null,
    string? GitCommit = null,
    IReadOnlyList<DatasetRef>? Datasets = null,
    IReadOnlyList<string>? Parents = null,
    bool? GitDirty = null);

/// <summary>
/// A version. <see cref="SameContent"/> is filled only when the version was asked for by manifest digest
/// (<c>@sha256:…</c>, which resolves to the oldest ready version with that content): the numbers of the
/// other ready versions of the model with the same content, oldest first (at most
/// <see cref="MaxSameContent"/>); null otherwise. <c>QuarantinedFiles</c> (single-version reads only; null when
/// none): paths whose stored bytes a scrub found missing or corrupt, so downloading them fails with
/// <c>blob_corrupt</c> until the blob is restored. <c>Insight</c>: what Berth read inside the files (framework,
/// parameters, signature, pickle scan; per-file details at <c>…/insight</c>), null until the version is committed.
/// <c>Metrics</c> are the effective values — what search, sorting and stage gates use: a metric's latest evaluation when it has one, else the value given at push —; <c>EvaluatedMetrics</c> (null
/// when none) says, for each metric an evaluation gave, which evaluation and the pushed value it stands beside.
/// <c>Children</c> (single-version reads only; null otherwise): the ready versions the caller may read whose lineage names
/// this one as a parent, as <c>namespace/model:number</c>, oldest first (at most <see cref="MaxChildren"/>).
/// </summary>
public sealed record VersionInfo(
    string Namespace,
    string Model,
    int Number,
    string? SemVer,
    string ManifestDigest,
    string State,
    string? Stage,
    DateTimeOffset? StageChangedAt,
    string? Description,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<string> Aliases,
    Lineage Lineage,
    long TotalSize,
    int FileCount,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset? ReadyAt,
    long Revision,
    IReadOnlyList<FileEntry>? Files = null,
    IReadOnlyList<DeploymentState>? Deployments = null,
    IReadOnlyList<int>? SameContent = null,
    IReadOnlyList<string>? QuarantinedFiles = null,
    VersionInsight? Insight = null,
    IReadOnlyDictionary<string, MetricEvaluation>? EvaluatedMetrics = null,
    IReadOnlyList<string>? Children = null)
{
    /// <summary>How many other versions <see cref="SameContent"/> lists at most.</summary>
    public const int MaxSameContent = 100;

    /// <summary>How many children <see cref="Children"/> lists at most (search <c>lineage.parent = '…'</c> finds them all).</summary>
    public const int MaxChildren = 100;

    /// <summary><c>namespace/model:number</c>.</summary>
    public string Reference => $"{Namespace}/{Model}:{Number}";
}

/// <summary>
/// Declares a new version: its metadata and its files (path, size, digest). The server answers with the
/// pending version and the digests it does not have yet; upload those, then commit.
/// </summary>
public sealed record CreateVersionRequest(
    IReadOnlyList<FileEntry> Files,
    string? Version = null,
    string? Description = null,
    IReadOnlyDictionary<string, double>? Metrics = null,
    IReadOnlyDictionary<string, string>? Params = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    IReadOnlyList<string>? Aliases = null,
    Lineage? Lineage = null);

public sealed record CreateVersionResponse(VersionInfo Version, IReadOnlyList<string> MissingBlobs);

public sealed record UpdateVersionRequest(
    string? Description = null,
    IReadOnlyDictionary<string, string>? SetTags = null,
    IReadOnlyList<string>? RemoveTags = null);

public sealed record StageChangeRequest(string Stage, string? Comment = null);

public sealed record SetAliasRequest(string Version);

public sealed record AliasInfo(string Name, int Version, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>
/// One entry of a model's history: a stage change (<c>kind=stage</c>), an alias move (<c>alias</c>), a
/// deletion (<c>deleted</c>) or a step of a transition request (<c>request</c>, with <c>Event</c> opened,
/// approved, rejected, cancelled, superseded or applied).
/// </summary>
public sealed record HistoryEntry(
    long Id,
    string Kind,
    string? Alias,
    int? Version,
    int? PreviousVersion,
    string? FromStage,
    string? ToStage,
    string Actor,
    DateTimeOffset At,
    string? Comment,
    long? RequestId = null,
    string? Event = null);

/// <summary>
/// Metrics measured on a ready version after its push, e.g. by an evaluation job: <c>Metrics</c> (1 to 1000, the version
/// metric rules), on which <c>Dataset</c> (a name or URI), by which <c>Run</c> (the id of a run of the same model), with a
/// <c>Note</c>. They become the version's effective values (search, sorting, stage gates); the pushed values are kept.
/// </summary>
public sealed record CreateEvaluationRequest(
    IReadOnlyDictionary<string, double>? Metrics,
    string? Dataset = null,
    string? Run = null,
    string? Note = null);

/// <summary>An evaluation of a version: what it measured, on what, by which run, who recorded it and when.</summary>
public sealed record EvaluationInfo(
    long Id,
    string Namespace,
    string Model,
    int Version,
    IReadOnlyDictionary<string, double> Metrics,
    string? Dataset,
    string? Run,
    string? Note,
    string CreatedBy,
    DateTimeOffset CreatedAt);

/// <summary>
/// Where a version's effective value of a metric comes from when an evaluation gave it: the evaluation (id, dataset, run,
/// who, when) and the value given at push (<c>Pushed</c>; null when the push did not give the metric).
/// </summary>
public sealed record MetricEvaluation(
    long Evaluation,
    double? Pushed,
    string? Dataset,
    string? Run,
    string CreatedBy,
    DateTimeOffset CreatedAt);
