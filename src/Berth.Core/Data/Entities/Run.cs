namespace Berth.Core.Data.Entities;

/// <summary>A training run under a model: params, tags, lineage, metric series (<see cref="RunMetricChunk"/>) and their summaries.</summary>
public sealed class Run
{
    public long Id { get; set; }

    /// <summary>The id users see: 12 lowercase base-32 characters, unique across the server.</summary>
    public required string PublicId { get; set; }

    public long ModelId { get; set; }
    public RegisteredModel Model { get; set; } = null!;
    public string? Name { get; set; }
    public RunStatus Status { get; set; }
    public long CreatedById { get; set; }
    public User CreatedBy { get; set; } = null!;
    public DateTime StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }

    /// <summary>The last sign of life: a heartbeat or an accepted metric batch.</summary>
    public DateTime HeartbeatAt { get; set; }

    public string? Note { get; set; }
    public string? GitRepository { get; set; }
    public string? GitCommit { get; set; }
    public bool? GitDirty { get; set; }

    /// <summary>The public id of the run this one continues (a fine-tuning, a resumed job), if any.</summary>
    public string? ParentRunId { get; set; }

    /// <summary>Where the run ran (host, runtime, packages), as the client's JSON object.</summary>
    public string? Environment { get; set; }

    public DateTime? DeletedAt { get; set; }

    /// <summary>When garbage collection purged the deleted run: its files and metric series are gone.</summary>
    public DateTime? PurgedAt { get; set; }

    /// <summary>Bumped on every change (name, note, tags, status); the ETag.</summary>
    public long Revision { get; set; }

    public List<RunParam> Params { get; set; } = [];
    public List<RunTag> Tags { get; set; } = [];
    public List<RunDataset> Datasets { get; set; } = [];
    public List<RunMetric> Metrics { get; set; } = [];
}

/// <summary>
/// A file of a run (checkpoint, plot, log): a path in the run and the blob that holds its bytes. A reference like a
/// version's file: the blob is kept while the run is (and until garbage collection purges it once deleted).
/// </summary>
public sealed class RunFile
{
    public long RunId { get; set; }
    public required string Path { get; set; }
    public long Size { get; set; }
    public required string Digest { get; set; }
    public string? MediaType { get; set; }

    /// <summary>When the path was (last) attached.</summary>
    public DateTime AttachedAt { get; set; }
}

/// <summary>
/// Verified bytes uploaded into a model: what lets a writer of the model attach them to a run without a ready version
/// that lists them (as a pending version's files are cleared by their upload). Kept for <c>Registry:UploadSessionTtl</c>.
/// </summary>
public sealed class ModelUpload
{
    public long ModelId { get; set; }
    public required string Digest { get; set; }
    public DateTime UploadedAt { get; set; }
}

public sealed class RunParam
{
    public long RunId { get; set; }
    public required string Name { get; set; }
    public required string Value { get; set; }

    /// <summary>The value as a number when the text is one, so that filters compare params numerically.</summary>
    public double? Number { get; set; }
}

public sealed class RunTag
{
    public long RunId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

public sealed class RunDataset
{
    public long RunId { get; set; }
    public int Ordinal { get; set; }
    public required string Uri { get; set; }
    public string? Digest { get; set; }
}

/// <summary>
/// The summary of one metric series of a run, kept current by every batch: what search filters and sorts on. NaN is
/// stored as null (SQLite cannot hold a NaN; PostgreSQL would sort it above every number).
/// </summary>
public sealed class RunMetric
{
    public long RunId { get; set; }
    public required string Key { get; set; }
    public long Count { get; set; }
    public long LastStep { get; set; }
    public long LastTime { get; set; }

    /// <summary>The value at the highest step (the latest at equal steps); null when it is NaN.</summary>
    public double? Last { get; set; }

    /// <summary>The least value that is not NaN; null when every value is NaN.</summary>
    public double? Min { get; set; }

    public double? Max { get; set; }
}

/// <summary>
/// Up to <c>MetricChunk.MaxPoints</c> points of one series, sorted by step, in the compact binary form of
/// <c>MetricChunk</c>, with a summary that a covering index serves without reading <see cref="Data"/>.
/// </summary>
public sealed class RunMetricChunk
{
    public long Id { get; set; }
    public long RunId { get; set; }
    public required string Key { get; set; }
    public long FirstStep { get; set; }
    public long LastStep { get; set; }
    public int Count { get; set; }
    public double? Min { get; set; }
    public double? Max { get; set; }
    public double? Last { get; set; }
    public required byte[] Data { get; set; }
}

/// <summary>A metric batch a run has stored, by its id: the same batch sent again stores nothing.</summary>
public sealed class RunBatch
{
    public long RunId { get; set; }
    public required string BatchId { get; set; }
    public int Points { get; set; }
    public DateTime ReceivedAt { get; set; }
}
