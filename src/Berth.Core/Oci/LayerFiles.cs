using System.Text.RegularExpressions;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;

namespace Berth.Core.Oci;

/// <summary>
/// The files a pushed model's layers become: each layer at the path its annotations give
/// (<c>org.cncf.model.filepath</c>, else <c>org.opencontainers.image.title</c>, else the path KitOps' config gives its
/// digest, else a name from its media type). A tar layer keeps its archive form, with <c>.tar</c> (<c>.tar.gz</c>,
/// <c>.tar.zst</c>) added to its path when the path has no such ending.
/// </summary>
public static partial class LayerFiles
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex MediaTypeRegex();

    public static List<FileEntry> From(OciManifestDocument document, ModelConfigFacts facts)
    {
        var files = new List<FileEntry>();
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in document.Layers)
        {
            var digest = layer.Digest.ToString();
            var path = layer.Annotations?.GetValueOrDefault(OciMediaTypes.FilePathAnnotation)
                       ?? layer.Annotations?.GetValueOrDefault(OciMediaTypes.TitleAnnotation)
                       ?? facts.PathsByDigest.GetValueOrDefault(digest);
            path = path is null ? DefaultName(layer.MediaType, digest) : Normalise(path);
            path = WithArchiveSuffix(path, layer.MediaType);
            if (FilePaths.Check(path) is { } invalid)
            {
                throw new OciException(OciError.ManifestInvalid, $"Layer {digest} has the path '{path}': {invalid} Nothing was stored.");
            }

            if (!paths.Add(path))
            {
                throw new OciException(OciError.ManifestInvalid, $"Two layers have the path '{path}'; a version's paths are unique. Nothing was stored.");
            }

            files.Add(new FileEntry(path, layer.Size, digest, MediaTypeRegex().IsMatch(layer.MediaType) && layer.MediaType.Length <= 255 ? layer.MediaType : null));
        }

        return files;
    }

    /// <summary>A relative path as Berth stores it: no leading <c>./</c> or <c>/</c>, no trailing <c>/</c>.</summary>
    private static string Normalise(string path)
    {
        var text = path.Replace('\\', '/');
        while (text.StartsWith("./", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        return text.Trim('/');
    }

    private static string WithArchiveSuffix(string path, string mediaType)
    {
        var suffix = mediaType.EndsWith("tar+gzip", StringComparison.Ordinal) || mediaType.EndsWith(".tar.gzip", StringComparison.Ordinal) ? ".tar.gz"
            : mediaType.EndsWith("tar+zstd", StringComparison.Ordinal) ? ".tar.zst"
            : mediaType.EndsWith(".tar", StringComparison.Ordinal) || mediaType.Contains(".tar+", StringComparison.Ordinal) ? ".tar"
            : null;
        return suffix is null || path.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) || path.Length == 0 ? path : path + suffix;
    }

    /// <summary>A name for a layer without a path (Docker Model Runner's first config format), from its media type.</summary>
    private static string DefaultName(string mediaType, string digest)
    {
        var shortHex = digest[7..19];
        return mediaType switch
        {
            "application/vnd.docker.ai.gguf.v3" => $"model-{shortHex}.gguf",
            "application/vnd.docker.ai.gguf.v3.lora" => $"adapter-{shortHex}.gguf",
            "application/vnd.docker.ai.gguf.v3.mmproj" or "application/vnd.docker.ai.mmproj" => $"mmproj-{shortHex}.gguf",
            "application/vnd.docker.ai.safetensors" => $"model-{shortHex}.safetensors",
            "application/vnd.docker.ai.license" => $"LICENSE-{shortHex}",
            "application/vnd.docker.ai.chat.template.jinja" => $"chat_template-{shortHex}.jinja",
            _ => $"layer-{shortHex}",
        };
    }
}
