using System.Buffers;
using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Contracts.Manifests;

/// <summary>
/// The content of a version: its files, serialised canonically (files sorted by path, fixed property
/// order, no whitespace). The SHA-256 of these bytes is the version's manifest digest, so the client
/// and the server compute the same identity for the same tree.
/// </summary>
public static class VersionManifest
{
    public const string MediaType = "application/vnd.berth.manifest.v1+json";

    public static byte[] Serialize(IEnumerable<FileEntry> files)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 1);
            writer.WriteString("mediaType", MediaType);
            writer.WriteStartArray("files");
            foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("path", file.Path);
                writer.WriteNumber("size", file.Size);
                writer.WriteString("digest", file.Digest);
                if (file.MediaType is not null)
                {
                    writer.WriteString("mediaType", file.MediaType);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static Digest ComputeDigest(IEnumerable<FileEntry> files) => Digest.Compute(Serialize(files));
}
