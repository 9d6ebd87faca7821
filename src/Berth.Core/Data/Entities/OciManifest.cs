namespace Berth.Core.Data.Entities;

/// <summary>
/// An OCI manifest (or index) of a model's repository, with its exact bytes: one Berth built for a version (a
/// ModelPack artifact, or the model car image), or one a client pushed. Immutable once written, so its digest never
/// changes (docs/oci.md).
/// </summary>
public sealed class OciManifest
{
    public long Id { get; set; }
    public long ModelId { get; set; }

    /// <summary>Which of the model's two repositories holds it: <c>ns/model</c> or <c>ns/model/modelcar</c>.</summary>
    public OciRepository Repository { get; set; }

    /// <summary>How the manifest came to be: built by Berth from a version, or pushed by a client.</summary>
    public OciManifestOrigin Origin { get; set; }

    public required string Digest { get; set; }
    public required string MediaType { get; set; }

    /// <summary>The manifest's <c>artifactType</c>, else its config's media type (what the referrers API reports).</summary>
    public string? ArtifactType { get; set; }

    public required byte[] Content { get; set; }

    /// <summary>The version this manifest is the OCI form of (null: a pushed manifest that is not a model, e.g. a signature).</summary>
    public long? VersionId { get; set; }

    /// <summary>The digest of the manifest this one refers to (its <c>subject</c>: a signature's, an SBOM's).</summary>
    public string? Subject { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>The blobs (config and layers) the manifest references: garbage collection keeps them.</summary>
    public List<OciBlobRef> Blobs { get; set; } = [];
}

public enum OciRepository
{
    /// <summary><c>ns/model</c>: ModelPack artifacts and whatever clients push.</summary>
    Model,

    /// <summary><c>ns/model/modelcar</c>: each version as an image with its files under /models (KServe's model car).</summary>
    Modelcar,
}

public enum OciManifestOrigin
{
    Built,
    Pushed,
}

/// <summary>A blob an OCI manifest references (its config, a layer).</summary>
public sealed class OciBlobRef
{
    public long ManifestId { get; set; }
    public required string Digest { get; set; }
}

/// <summary>
/// A tag of a model's repository that is no Berth selector: it names a pushed manifest (e.g. an image, a signature's
/// <c>sha256-…</c> tag, or a model pushed under a tag Berth cannot map). Berth's own selectors (numbers, semantic
/// versions, aliases, stages, latest) are tags without rows.
/// </summary>
public sealed class OciTag
{
    public long ModelId { get; set; }
    public required string Name { get; set; }
    public long ManifestId { get; set; }
    public OciManifest Manifest { get; set; } = null!;
    public DateTime UpdatedAt { get; set; }
}
