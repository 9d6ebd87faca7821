using System.Text;
using System.Text.Json;
using Berth.Contracts.Naming;

namespace Berth.Core.Oci;

/// <summary>What a pushed model's config says that Berth keeps on the version.</summary>
public sealed record ModelConfigFacts(
    string? Version,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, string> PathsByDigest);

/// <summary>
/// Reads the config of a pushed ModelPack, Docker Model Runner or KitOps manifest (docs/oci.md, "Pushing a model"): a
/// version string, a description, the fields worth searching as version tags (<c>modelpack.format</c>,
/// <c>docker.quantization</c>, <c>kitops.framework</c> …), and for KitOps the path each layer's digest stands for.
/// Unknown or malformed fields are left out: the config is kept as pushed anyway.
/// </summary>
public static class ModelConfigReader
{
    public static ModelConfigFacts Read(string mediaType, byte[] content)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        string? version = null;
        string? description = null;
        try
        {
            using var document = JsonDocument.Parse(content);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new ModelConfigFacts(null, null, tags, paths);
            }

            switch (mediaType)
            {
                case OciMediaTypes.ModelConfig:
                {
                    var descriptor = Object(root, "descriptor");
                    version = Text(descriptor, "version");
                    description = Text(descriptor, "description");
                    foreach (var name in new[] { "name", "family", "vendor", "title", "revision", "sourceURL", "docURL" })
                    {
                        Add(tags, "modelpack." + name, Text(descriptor, name));
                    }

                    Add(tags, "modelpack.licenses", Join(descriptor, "licenses"));
                    var config = Object(root, "config");
                    foreach (var name in new[] { "architecture", "format", "paramSize", "precision", "quantization" })
                    {
                        Add(tags, "modelpack." + name, Text(config, name));
                    }

                    break;
                }

                case OciMediaTypes.DockerAiConfigV01:
                case OciMediaTypes.DockerAiConfigV02:
                {
                    var config = Object(root, "config");
                    foreach (var name in new[] { "format", "quantization", "parameters", "architecture", "size" })
                    {
                        Add(tags, "docker." + name, Text(config, name));
                    }

                    Add(tags, "docker.context_size", Text(config, "context_size"));
                    break;
                }

                case OciMediaTypes.KitConfig:
                {
                    var package = Object(root, "package");
                    version = Text(package, "version");
                    description = Text(package, "description");
                    Add(tags, "kitops.name", Text(package, "name"));
                    Add(tags, "kitops.license", Text(package, "license"));
                    var model = Object(root, "model");
                    foreach (var name in new[] { "name", "framework", "format", "version" })
                    {
                        Add(tags, "kitops." + name, Text(model, name));
                    }

                    AddPath(paths, model);
                    foreach (var part in Array(model, "parts"))
                    {
                        AddPath(paths, part);
                    }

                    foreach (var list in new[] { "code", "datasets", "docs" })
                    {
                        foreach (var entry in Array(root, list))
                        {
                            AddPath(paths, entry);
                        }
                    }

                    break;
                }
            }
        }
        catch (JsonException)
        {
            // A config that is not JSON tells Berth nothing; the manifest's layers still make the version.
        }

        return new ModelConfigFacts(version, description, tags, paths);
    }

    private static void AddPath(Dictionary<string, string> paths, JsonElement? entry)
    {
        if (Text(entry, "digest") is { } digest && Digest.TryParse(digest, out _) && Text(entry, "path") is { Length: > 0 } path)
        {
            paths.TryAdd(digest, path);
        }
    }

    private static JsonElement? Object(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    private static IEnumerable<JsonElement> Array(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().ToList()
            : [];

    private static string? Text(JsonElement? parent, string name)
    {
        if (parent is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => null,
        };
    }

    private static string? Join(JsonElement? parent, string name)
    {
        var values = Array(parent, name).Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList();
        return values.Count == 0 ? null : string.Join(", ", values);
    }

    /// <summary>Adds a tag whose value is printable and fits Berth's limit (longer values are cut).</summary>
    private static void Add(Dictionary<string, string> tags, string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        var clean = new StringBuilder(Math.Min(value.Length, Names.TagValueMaxLength));
        foreach (var c in value)
        {
            if (clean.Length == Names.TagValueMaxLength)
            {
                break;
            }

            if (!char.IsControl(c) || c is '\t')
            {
                clean.Append(c);
            }
        }

        if (clean.Length > 0 && Names.CheckKey("tag", key) is null)
        {
            tags[key] = clean.ToString();
        }
    }
}
