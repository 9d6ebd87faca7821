using Berth.Contracts.Dtos;

namespace Berth.Client.Transfers;

/// <summary>Metadata and tuning of a push. Everything but the files is optional.</summary>
public sealed record PushOptions
{
    public string? Version { get; init; }
    public string? Description { get; init; }
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
    public IReadOnlyDictionary<string, string>? Params { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    public IReadOnlyList<string>? Aliases { get; init; }
    public Lineage? Lineage { get; init; }

    /// <summary>
    /// Create a new version even when a ready version of the model has exactly this content (the same manifest
    /// digest). By default such a push with no <see cref="Version"/> creates nothing: it moves <see cref="Aliases"/>
    /// onto that version and returns it with <see cref="PushResult.Unchanged"/> set (metrics, params, tags,
    /// description and lineage are not used). A push with a <see cref="Version"/> always creates one.
    /// </summary>
    public bool AllowUnchanged { get; init; }

    /// <summary>Files uploaded at the same time.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>Files up to this size go in one request; larger ones through a resumable session.</summary>
    public long SingleRequestLimit { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Files at least this large whose digest is not cached start uploading while they are being
    /// hashed, instead of after; the upload is cancelled if the server turns out to hold the bytes
    /// already. Null turns this off (hash everything first, upload only what is missing).
    /// </summary>
    public long? StreamWhileHashingThreshold { get; init; } = 64 * 1024 * 1024;

    public IDigestCache? DigestCache { get; init; }

    public IUploadResumeStore? ResumeStore { get; init; }
}
