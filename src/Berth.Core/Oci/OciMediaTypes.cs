namespace Berth.Core.Oci;

/// <summary>The media types of the OCI image spec, CNCF ModelPack, Docker Model Runner and KitOps that Berth reads or writes.</summary>
public static class OciMediaTypes
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string ImageConfig = "application/vnd.oci.image.config.v1+json";
    public const string ImageLayerTar = "application/vnd.oci.image.layer.v1.tar";
    public const string Empty = "application/vnd.oci.empty.v1+json";

    public const string ModelManifest = "application/vnd.cncf.model.manifest.v1+json";
    public const string ModelConfig = "application/vnd.cncf.model.config.v1+json";
    public const string ModelWeight = "application/vnd.cncf.model.weight.v1.raw";
    public const string ModelWeightConfig = "application/vnd.cncf.model.weight.config.v1.raw";
    public const string ModelDoc = "application/vnd.cncf.model.doc.v1.raw";
    public const string ModelCode = "application/vnd.cncf.model.code.v1.raw";
    public const string ModelDataset = "application/vnd.cncf.model.dataset.v1.raw";
    public const string ModelLayerPrefix = "application/vnd.cncf.model.";

    public const string DockerAiConfigV01 = "application/vnd.docker.ai.model.config.v0.1+json";
    public const string DockerAiConfigV02 = "application/vnd.docker.ai.model.config.v0.2+json";
    public const string DockerAiPrefix = "application/vnd.docker.ai.";
    public const string KitConfig = "application/vnd.kitops.modelkit.config.v1+json";
    public const string KitPrefix = "application/vnd.kitops.modelkit.";

    /// <summary>Layer annotations (ModelPack, also written by Docker Model Runner).</summary>
    public const string FilePathAnnotation = "org.cncf.model.filepath";
    public const string FileMetadataAnnotation = "org.cncf.model.file.metadata+json";
    public const string MediaTypeUntestedAnnotation = "org.cncf.model.file.mediatype.untested";
    public const string TitleAnnotation = "org.opencontainers.image.title";
    public const string CreatedAnnotation = "org.opencontainers.image.created";
    public const string VersionAnnotation = "org.opencontainers.image.version";
    public const string DescriptionAnnotation = "org.opencontainers.image.description";
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    /// <summary>Annotations Berth adds to the manifests it builds.</summary>
    public const string BerthVersionAnnotation = "dev.berth.version";
    public const string BerthManifestAnnotation = "dev.berth.manifest.digest";

    /// <summary>Manifest media types a client may push (and Berth serves).</summary>
    public static bool IsManifest(string? mediaType) =>
        mediaType is ImageManifest or DockerManifest;

    public static bool IsIndex(string? mediaType) =>
        mediaType is ImageIndex or DockerManifestList;

    /// <summary>The kinds of model config Berth turns into versions.</summary>
    public static bool IsModelConfig(string? mediaType) =>
        mediaType is ModelConfig or DockerAiConfigV01 or DockerAiConfigV02 or KitConfig;
}
