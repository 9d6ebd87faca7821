using System.Text.Json.Serialization;

namespace Berth.Contracts.Dtos;

public static class RunStatuses
{
    public const string Running = "running";
    public const string Finished = "finished";
    public const string Failed = "failed";
    public const string Killed = "killed";
    public const string Crashed = "crashed";
}

/// <summary>Where a run came from: code (git repository, commit, whether the tree had uncommitted changes), data, and the run it continues.</summary>
public sealed record RunLineage(
    string? GitRepository = null,
    string? GitCommit = null,
    bool? GitDirty = null,
    IReadOnlyList<DatasetRef>? Datasets = null,
    string? ParentRun = null);

/// <summary>
/// The summary of one metric series: how many points, the highest step and the value there (the latest at equal
/// steps), and the least and greatest values that are not NaN (null when every value is NaN). Values may be NaN or
/// infinite: JSON carries them as the strings "NaN", "Infinity" and "-Infinity".
/// </summary>
public sealed record MetricSummary(
    long Count,
    long LastStep,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double Last,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double? Min,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double? Max);

/// <summary>A training run of a model. <see cref="Id"/> is short and URL-safe; <c>Metrics</c> holds each series' summary.</summary>
public sealed record RunInfo(
    string Id,
    string Namespace,
    string Model,
    string? Name,
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    DateTimeOffset HeartbeatAt,
    string CreatedBy,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, MetricSummary> Metrics,
    string? Note,
    RunLineage Lineage,
    IReadOnlyDictionary<string, string>? Environment,
    long Revision,
    IReadOnlyList<RunVersionRef>? Versions = null);

/// <summary>A ready version registered from a run (its lineage names the run): number and semantic version.</summary>
public sealed record RunVersionRef(int Number, string? SemVer);

/// <summary>
/// A file of a run (a checkpoint, a plot, a log): its path in the run, size, SHA-256 digest, the media type the
/// writer declared (information only) and <c>Time</c>, when it was attached (attaching the path again replaces it).
/// </summary>
public sealed record RunFileInfo(string Path, long Size, string Digest, string? MediaType, DateTimeOffset Time);

/// <summary>
/// Attaches files whose bytes were uploaded (through the model's upload endpoints) to a run, all or none. Paths follow
/// the version rules; attaching a path again replaces it.
/// </summary>
public sealed record AttachRunFilesRequest(IReadOnlyList<FileEntry> Files);

/// <summary>Every file of a run, in path order.</summary>
public sealed record RunFileList(IReadOnlyList<RunFileInfo> Files);

/// <summary>
/// Registers a run as a version of its model, from the bytes already stored: the run's files (or those under
/// <c>Path</c>, a folder whose prefix is stripped). The version's lineage names the run and takes its git commit, dirty
/// flag and datasets; its params and metrics are the run's params and final (last) metric values, with the given ones
/// added or replacing those of the same name.
/// </summary>
public sealed record RegisterRunRequest(
    string? Version = null,
    string? Path = null,
    string? Description = null,
    IReadOnlyDictionary<string, double>? Metrics = null,
    IReadOnlyDictionary<string, string>? Params = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    IReadOnlyList<string>? Aliases = null);

/// <summary>Starts a run of a model (the namespace and model are created on first use, as a push does).</summary>
public sealed record CreateRunRequest(
    string? Name = null,
    IReadOnlyDictionary<string, string>? Params = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    string? Note = null,
    RunLineage? Lineage = null,
    IReadOnlyDictionary<string, string>? Environment = null);

/// <summary>Changes a run's name and note (an empty string clears them) and its tags.</summary>
public sealed record UpdateRunRequest(
    string? Name = null,
    string? Note = null,
    IReadOnlyDictionary<string, string>? SetTags = null,
    IReadOnlyList<string>? RemoveTags = null);

/// <summary>Ends a run: finished (the default), failed or killed.</summary>
public sealed record FinishRunRequest(string? Status = null);

/// <summary>
/// One point of a metric batch. <c>Time</c> is milliseconds since the Unix epoch (the server's clock when left
/// out); <c>Value</c> is a JSON number or one of the strings "NaN", "Infinity", "-Infinity".
/// </summary>
public sealed record MetricPointInput(
    string Key,
    long Step,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double Value,
    long? Time = null);

/// <summary>
/// Points to add to a run's series. The same <c>BatchId</c> (1-64 characters of [A-Za-z0-9_-]) is stored once:
/// send a batch again with the same id and nothing is added. Without an id, the SHA-256 of the points is the id.
/// </summary>
public sealed record MetricBatch(IReadOnlyList<MetricPointInput> Points, string? BatchId = null);

/// <summary>What a batch did: how many points it stored (0 for a batch already stored) and its id.</summary>
public sealed record MetricBatchResult(string BatchId, int Stored, bool Duplicate);

/// <summary>A point of a series as stored: step, time (milliseconds since the Unix epoch), value.</summary>
public sealed record SeriesPoint(
    long Step,
    long Time,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double Value);

/// <summary>
/// A bucket of a downsampled series: the steps it covers (of the points in it), how many points, their least and
/// greatest value that is not NaN (null when none) and, when the bucket was filled point by point (zoomed-in reads),
/// its last value (null when it was filled from chunk summaries). Aligned on time, <c>FirstTime</c> and <c>LastTime</c>
/// are the times of its first and last point in milliseconds since the run's start (null when aligned on step).
/// </summary>
public sealed record MetricBucket(
    long FirstStep,
    long LastStep,
    long Count,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double? Min,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double? Max,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double? Last,
    long? FirstTime = null,
    long? LastTime = null);

/// <summary>
/// One series of one run over [<c>From</c>, <c>To</c>]: the points themselves when there are no more than the buckets
/// asked for (<c>Points</c>), else min/max buckets of <c>BucketWidth</c> steps (<c>Buckets</c>; empty ones left out).
/// Aligned on time, <c>Origin</c> is the run's start (milliseconds since the Unix epoch): a point's time minus it is its
/// place on the common axis.
/// </summary>
public sealed record MetricSeries(
    string Run,
    string Key,
    long Count,
    IReadOnlyList<SeriesPoint>? Points,
    IReadOnlyList<MetricBucket>? Buckets,
    long? Origin = null);

/// <summary>
/// Series read over one range cut into the same buckets, so that bucket boundaries line up across runs. <c>Align</c>
/// (comparisons only) says what the range, <c>From</c>, <c>To</c> and <c>BucketWidth</c> are in: <c>step</c>, or
/// <c>time</c> (milliseconds since each run's start).
/// </summary>
public sealed record SeriesSet(long? From, long? To, long? BucketWidth, IReadOnlyList<MetricSeries> Series, string? Align = null);
