using System.Formats.Tar;
using System.Globalization;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;

namespace Berth.Core.Oci;

/// <summary>
/// KServe's model car form of a version: an OCI image whose one layer holds the version's files under <c>/models</c>,
/// as a reproducible tar (directories first, then paths in order, owner 0:0, modes 0755/0644, every time the version's
/// creation time), so the same version always gives the same layer and image digest.
/// </summary>
public static class ModelcarBuilder
{
    public const string Root = "models";

    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                               UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Writes the layer's tar of <paramref name="version"/>'s files, read from <paramref name="store"/>.</summary>
    public static async Task WriteLayerAsync(Stream output, VersionFacts version, IBlobStore store, CancellationToken cancellationToken)
    {
        var time = DateTimeOffset.FromUnixTimeSeconds(version.CreatedAt.ToUnixTimeSeconds());
        await using var tar = new TarWriter(output, TarEntryFormat.Gnu, leaveOpen: true);
        foreach (var directory in Directories(version.Files))
        {
            await tar.WriteEntryAsync(Entry(TarEntryType.Directory, directory + "/", DirectoryMode, time), cancellationToken);
        }

        foreach (var file in version.Files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            await using var data = await store.OpenReadAsync(Digest.Parse(file.Digest), 0, cancellationToken);
            var entry = Entry(TarEntryType.RegularFile, $"{Root}/{file.Path}", FileMode, time);
            entry.DataStream = data;
            await tar.WriteEntryAsync(entry, cancellationToken);
        }
    }

    /// <summary><c>models</c> and every folder of a file's path below it, parents before children.</summary>
    internal static IEnumerable<string> Directories(IEnumerable<Contracts.Dtos.FileEntry> files)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal) { Root };
        foreach (var file in files)
        {
            for (var slash = file.Path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = file.Path.IndexOf('/', slash + 1))
            {
                set.Add($"{Root}/{file.Path[..slash]}");
            }
        }

        return set;
    }

    private static GnuTarEntry Entry(TarEntryType type, string name, UnixFileMode mode, DateTimeOffset time) => new(type, name)
    {
        Mode = mode,
        Uid = 0,
        Gid = 0,
        UserName = "",
        GroupName = "",
        ModificationTime = time,
        AccessTime = time,
        ChangeTime = time,
    };

    /// <summary>The image config and manifest around the layers (an optional base layer, then the model's).</summary>
    public static BuiltManifest Build(VersionFacts version, string architecture, IReadOnlyList<(Digest Digest, long Size)> layers)
    {
        var created = version.CreatedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var number = version.Number.ToString(CultureInfo.InvariantCulture);
        var config = ModelPackBuilder.Json(w =>
        {
            w.WriteString("created", created);
            w.WriteString("architecture", architecture);
            w.WriteString("os", "linux");
            w.WriteStartObject("config");
            w.WriteStartObject("Labels");
            w.WriteString(OciMediaTypes.TitleAnnotation, $"{version.Namespace}/{version.Model}");
            w.WriteString(OciMediaTypes.VersionAnnotation, version.SemVer ?? number);
            w.WriteString(OciMediaTypes.BerthManifestAnnotation, version.ManifestDigest);
            w.WriteString(OciMediaTypes.BerthVersionAnnotation, number);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("rootfs");
            w.WriteString("type", "layers");
            w.WriteStartArray("diff_ids");
            foreach (var layer in layers)
            {
                w.WriteStringValue(layer.Digest.ToString());
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("history");
            w.WriteStartObject();
            w.WriteString("created", created);
            w.WriteString("created_by", $"berth: the files of {version.Namespace}/{version.Model}:{number} under /{Root}");
            w.WriteEndObject();
            w.WriteEndArray();
        });
        var configDigest = Digest.Compute(config);
        var manifest = ModelPackBuilder.Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", OciMediaTypes.ImageManifest);
            w.WriteStartObject("config");
            w.WriteString("mediaType", OciMediaTypes.ImageConfig);
            w.WriteString("digest", configDigest.ToString());
            w.WriteNumber("size", config.Length);
            w.WriteEndObject();
            w.WriteStartArray("layers");
            foreach (var layer in layers)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", OciMediaTypes.ImageLayerTar);
                w.WriteString("digest", layer.Digest.ToString());
                w.WriteNumber("size", layer.Size);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("annotations");
            w.WriteString(OciMediaTypes.CreatedAnnotation, created);
            w.WriteString(OciMediaTypes.TitleAnnotation, $"{version.Namespace}/{version.Model}");
            w.WriteString(OciMediaTypes.VersionAnnotation, version.SemVer ?? number);
            w.WriteString(OciMediaTypes.BerthManifestAnnotation, version.ManifestDigest);
            w.WriteString(OciMediaTypes.BerthVersionAnnotation, number);
            w.WriteEndObject();
        });
        var blobs = new List<string> { configDigest.ToString() };
        blobs.AddRange(layers.Select(l => l.Digest.ToString()).Distinct(StringComparer.Ordinal));
        return new BuiltManifest(manifest, Digest.Compute(manifest), OciMediaTypes.ImageManifest, OciMediaTypes.ImageConfig, config, configDigest, blobs);
    }
}
