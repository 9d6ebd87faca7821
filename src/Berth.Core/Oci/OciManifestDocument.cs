using System.Text.Json;
using Berth.Contracts.Naming;

namespace Berth.Core.Oci;

/// <summary>A descriptor of a manifest: what it points to.</summary>
public sealed record OciDescriptor(string MediaType, Digest Digest, long Size, string? ArtifactType, IReadOnlyDictionary<string, string>? Annotations);

/// <summary>
/// A pushed manifest or index, read strictly enough to keep the registry consistent (schemaVersion 2, well-formed
/// descriptors with sha256 digests and sizes) and leniently otherwise (unknown fields are kept: the bytes are stored as
/// pushed).
/// </summary>
public sealed record OciManifestDocument(
    string MediaType,
    bool IsIndex,
    string? ArtifactType,
    OciDescriptor? Config,
    IReadOnlyList<OciDescriptor> Layers,
    IReadOnlyList<OciDescriptor> Manifests,
    OciDescriptor? Subject,
    IReadOnlyDictionary<string, string>? Annotations)
{
    /// <summary>
    /// Parses <paramref name="content"/> pushed with <paramref name="contentType"/> (the media type to store when the
    /// manifest names none, as KitOps' do not). Throws MANIFEST_INVALID saying what is wrong.
    /// </summary>
    public static OciManifestDocument Parse(byte[] content, string? contentType)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw Invalid($"The manifest is not JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("The manifest must be a JSON object.");
            }

            if (!root.TryGetProperty("schemaVersion", out var schema) || schema.ValueKind != JsonValueKind.Number || !schema.TryGetInt32(out var version) || version != 2)
            {
                throw Invalid("The manifest's schemaVersion must be 2.");
            }

            var declared = OptionalString(root, "mediaType");
            var type = Bare(contentType);
            if (declared is not null && type is not null && type != declared && type is not ("application/json" or "application/octet-stream"))
            {
                throw Invalid($"The manifest says mediaType '{Names.Show(declared)}' but was sent as Content-Type '{Names.Show(type)}'.");
            }

            var mediaType = declared ?? type;
            if (mediaType is null or "application/json" or "application/octet-stream")
            {
                // No type given anywhere: what the body holds decides.
                mediaType = root.TryGetProperty("manifests", out _) ? OciMediaTypes.ImageIndex : OciMediaTypes.ImageManifest;
            }

            var isIndex = OciMediaTypes.IsIndex(mediaType);
            if (!isIndex && !OciMediaTypes.IsManifest(mediaType))
            {
                throw Invalid($"Media type '{Names.Show(mediaType)}' is not a manifest type this registry stores ({OciMediaTypes.ImageManifest}, {OciMediaTypes.ImageIndex}, or Docker's v2 manifest and manifest list).");
            }

            var artifactType = OptionalString(root, "artifactType");
            var subject = root.TryGetProperty("subject", out var s) && s.ValueKind != JsonValueKind.Null ? ReadDescriptor(s, "subject") : null;
            var annotations = ReadAnnotations(root);
            if (isIndex)
            {
                var manifests = ReadList(root, "manifests", required: true);
                return new OciManifestDocument(mediaType, true, artifactType, null, [], manifests, subject, annotations);
            }

            if (!root.TryGetProperty("config", out var config))
            {
                throw Invalid("The manifest has no config descriptor.");
            }

            var layers = ReadList(root, "layers", required: true);
            return new OciManifestDocument(mediaType, false, artifactType, ReadDescriptor(config, "config"), layers, [], subject, annotations);
        }
    }

    /// <summary>The blobs the manifest references: its config and layers (an index references manifests instead).</summary>
    public IEnumerable<OciDescriptor> Blobs => Config is null ? Layers : Layers.Prepend(Config);

    /// <summary>What the referrers API reports as the manifest's type: its artifactType, else its config's media type.</summary>
    public string? EffectiveArtifactType => ArtifactType ?? Config?.MediaType;

    /// <summary>A model Berth turns into a version: ModelPack, Docker Model Runner or KitOps.</summary>
    public bool IsModel => !IsIndex && (ArtifactType == OciMediaTypes.ModelManifest || OciMediaTypes.IsModelConfig(Config?.MediaType));

    /// <summary>The top-level annotations of a stored manifest (null when it has none or is not a JSON object).</summary>
    public static IReadOnlyDictionary<string, string>? ReadAnnotations(byte[] content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            return document.RootElement.ValueKind == JsonValueKind.Object ? ReadAnnotations(document.RootElement) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IReadOnlyDictionary<string, string>? ReadAnnotations(JsonElement element)
    {
        if (!element.TryGetProperty("annotations", out var annotations) || annotations.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (annotations.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("annotations must be an object of strings.");
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in annotations.EnumerateObject())
        {
            map[property.Name] = property.Value.ValueKind == JsonValueKind.String
                ? property.Value.GetString()!
                : throw Invalid($"Annotation '{Names.Show(property.Name)}' must be a string.");
        }

        return map;
    }

    private static List<OciDescriptor> ReadList(JsonElement root, string name, bool required)
    {
        if (!root.TryGetProperty(name, out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return required ? throw Invalid($"The manifest has no '{name}' list.") : [];
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"'{name}' must be a list of descriptors.");
        }

        return list.EnumerateArray().Select((d, i) => ReadDescriptor(d, $"{name}[{i}]")).ToList();
    }

    private static OciDescriptor ReadDescriptor(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{where} must be a descriptor object.");
        }

        var mediaType = OptionalString(element, "mediaType") ?? throw Invalid($"{where} has no mediaType.");
        var digestText = OptionalString(element, "digest") ?? throw Invalid($"{where} has no digest.");
        if (!Digest.TryParse(digestText, out var digest))
        {
            throw Invalid($"{where}'s digest '{Names.Show(digestText)}' is not sha256: followed by 64 lowercase hex characters (the only algorithm this registry stores).");
        }

        if (!element.TryGetProperty("size", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt64(out var size) || size < 0)
        {
            throw Invalid($"{where} needs a size: a non-negative integer.");
        }

        return new OciDescriptor(mediaType, digest, size, OptionalString(element, "artifactType"), ReadAnnotations(element));
    }

    private static string? OptionalString(JsonElement element, string name) =>
        !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw Invalid($"'{name}' must be a string.");

    /// <summary>A Content-Type without its parameters.</summary>
    public static string? Bare(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim().ToLowerInvariant();
    }

    private static OciException Invalid(string detail) => new(OciError.ManifestInvalid, detail);
}
