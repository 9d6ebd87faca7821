using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Core.Oci;

/// <summary>What a version contributes to its OCI forms.</summary>
public sealed record VersionFacts(
    string Namespace,
    string Model,
    int Number,
    string? SemVer,
    string? Description,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    string ManifestDigest,
    IReadOnlyList<FileEntry> Files);

/// <summary>A manifest Berth built, with the config blob it references.</summary>
public sealed record BuiltManifest(byte[] Manifest, Digest Digest, string MediaType, string ArtifactType, byte[] Config, Digest ConfigDigest, IReadOnlyList<string> Blobs);

/// <summary>
/// Builds a version's CNCF ModelPack artifact: an OCI image manifest with <c>artifactType</c>
/// <c>application/vnd.cncf.model.manifest.v1+json</c>, a ModelPack config, and one raw layer per file (the blob Berth
/// already stores, annotated with its path). Deterministic: the same version always gives the same bytes (files in path
/// order, fixed property order, times from the version), and Berth stores the result once, so the digest never changes.
/// </summary>
public static class ModelPackBuilder
{
    /// <summary>Mode, owner and type written into each layer's file metadata annotation.</summary>
    private const int FileMode = 420; // 0644
    private const int RegularFile = 48; // '0'

    public static BuiltManifest Build(VersionFacts version)
    {
        var files = version.Files.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        var created = version.CreatedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var config = Json(w =>
        {
            w.WriteStartObject("descriptor");
            w.WriteString("createdAt", created);
            w.WriteStartArray("authors");
            w.WriteStringValue(version.CreatedBy);
            w.WriteEndArray();
            w.WriteString("name", $"{version.Namespace}/{version.Model}");
            w.WriteString("version", version.SemVer ?? version.Number.ToString(CultureInfo.InvariantCulture));
            if (version.Description is { Length: > 0 } description)
            {
                w.WriteString("description", description);
            }

            w.WriteEndObject();
            // Format, parameter size and precision come from a version's extracted metadata; until Berth extracts it,
            // the config says nothing rather than guess.
            w.WriteStartObject("config");
            w.WriteEndObject();
            w.WriteStartObject("modelfs");
            w.WriteString("type", "layers");
            w.WriteStartArray("diffIds");
            foreach (var file in files)
            {
                w.WriteStringValue(file.Digest);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        var configDigest = Digest.Compute(config);
        var manifest = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", OciMediaTypes.ImageManifest);
            w.WriteString("artifactType", OciMediaTypes.ModelManifest);
            w.WriteStartObject("config");
            w.WriteString("mediaType", OciMediaTypes.ModelConfig);
            w.WriteString("digest", configDigest.ToString());
            w.WriteNumber("size", config.Length);
            w.WriteEndObject();
            w.WriteStartArray("layers");
            foreach (var file in files)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", LayerKinds.MediaTypeFor(file.Path));
                w.WriteString("digest", file.Digest);
                w.WriteNumber("size", file.Size);
                w.WriteStartObject("annotations");
                w.WriteString(OciMediaTypes.FilePathAnnotation, file.Path);
                w.WriteString(OciMediaTypes.FileMetadataAnnotation, FileMetadata(file, created));
                w.WriteString(OciMediaTypes.MediaTypeUntestedAnnotation, "true");
                w.WriteString(OciMediaTypes.TitleAnnotation, file.Path);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("annotations");
            w.WriteString(OciMediaTypes.CreatedAnnotation, created);
            w.WriteString(OciMediaTypes.TitleAnnotation, $"{version.Namespace}/{version.Model}");
            w.WriteString(OciMediaTypes.VersionAnnotation, version.SemVer ?? version.Number.ToString(CultureInfo.InvariantCulture));
            w.WriteString(OciMediaTypes.BerthManifestAnnotation, version.ManifestDigest);
            w.WriteString(OciMediaTypes.BerthVersionAnnotation, version.Number.ToString(CultureInfo.InvariantCulture));
            w.WriteEndObject();
        });
        var blobs = new List<string> { configDigest.ToString() };
        blobs.AddRange(files.Select(f => f.Digest).Distinct(StringComparer.Ordinal));
        return new BuiltManifest(manifest, Digest.Compute(manifest), OciMediaTypes.ImageManifest, OciMediaTypes.ModelManifest, config, configDigest, blobs);
    }

    private static string FileMetadata(FileEntry file, string mtime) =>
        System.Text.Encoding.UTF8.GetString(Json(w =>
        {
            w.WriteString("name", file.Path);
            w.WriteNumber("mode", FileMode);
            w.WriteNumber("uid", 0);
            w.WriteNumber("gid", 0);
            w.WriteNumber("size", file.Size);
            w.WriteString("mtime", mtime);
            w.WriteNumber("typeflag", RegularFile);
        }));

    /// <summary>A compact JSON object written by <paramref name="body"/> (canonical: no whitespace, properties in the order written).</summary>
    internal static byte[] Json(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
