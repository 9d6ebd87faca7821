using System.ComponentModel.DataAnnotations;

namespace Berth.Core.Configuration;

/// <summary>Behaviour of the registry itself (section <c>Registry</c>; environment variables <c>BERTH_Registry__…</c>).</summary>
public sealed class RegistryOptions
{
    public const string SectionName = "Registry";

    /// <summary>Let requests without a token read (list, show, pull). Writes always need a token.</summary>
    public bool AnonymousRead { get; set; }

    /// <summary>Who may create namespaces: Personal (default: only the one named as the user), Admins, or Users (anyone; the creator becomes its admin).</summary>
    public NamespaceCreation NamespaceCreation { get; set; } = NamespaceCreation.Personal;

    /// <summary>An upload session with no activity for this long is expired and its data removed.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan UploadSessionTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a request writing to an upload holds it (renewed every third of this while it streams). With several
    /// replicas, an upload whose replica died can be resumed elsewhere once this has passed.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan UploadWriterLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A pending version not committed within this time fails and releases its semantic version.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan PendingVersionTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a response stored for an Idempotency-Key is replayed.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan IdempotencyTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The largest single file accepted, in bytes: a declared file larger than this is refused, and an upload session
    /// never holds more (a body that would pass it is refused before it is read when its length is known).
    /// </summary>
    [Range(1L, long.MaxValue)]
    public long MaxBlobSize { get; set; } = 1L * 1024 * 1024 * 1024 * 1024;

    /// <summary>The most files one version may hold.</summary>
    [Range(1, 1_000_000)]
    public int MaxFilesPerVersion { get; set; } = 100_000;

    /// <summary>
    /// The storage quota a new namespace gets, in logical bytes (the declared sizes of the files of its pending and ready
    /// versions); unset: unlimited. Server administrators change a namespace's quota with <c>berth quota set</c>.
    /// </summary>
    [Range(0L, long.MaxValue)]
    public long? DefaultMaxBytes { get; set; }

    /// <summary>The version quota a new namespace gets (its pending and ready versions); unset: unlimited.</summary>
    [Range(0L, long.MaxValue)]
    public long? DefaultMaxVersions { get; set; }

    /// <summary>
    /// Garbage collection keeps an unreferenced blob until it is this old and no push has used it for this
    /// long, so bytes uploaded for a version that is being pushed right now are never collected.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan BlobGracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Deleted (and failed) versions, and the versions of deleted models and namespaces, are purged by garbage
    /// collection this long after their deletion; until then an administrator can still see them.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan PurgeDelay { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How often each server runs garbage collection by itself (unset: only <c>berth gc</c> runs it). With
    /// several replicas each keeps its own schedule; one sweeps at a time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan? GcInterval { get; set; }

    /// <summary>
    /// How fast a scrub (<c>berth fsck</c>) reads stored bytes, in bytes per second, so that serving continues while
    /// it runs. 50 MiB/s re-hashes a terabyte in about six hours.
    /// </summary>
    [Range(1024L, long.MaxValue)]
    public long FsckBytesPerSecond { get; set; } = 50L * 1024 * 1024;

    /// <summary>Buffer size of the upload pipeline (read, hash and write overlap on two buffers of this size).</summary>
    [Range(64 * 1024, 64 * 1024 * 1024)]
    public int UploadBufferSize { get; set; } = 1024 * 1024;
}
