using System.Buffers;
using System.Text.Json;
using Berth.Core.Oci;

namespace Berth.Server.Oci;

/// <summary>The referrers API's answer: an image index of the descriptors of the manifests that refer to a digest.</summary>
internal static class ReferrersIndex
{
    public static byte[] Write(IReadOnlyList<OciReferrer> referrers)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", OciMediaTypes.ImageIndex);
            w.WriteStartArray("manifests");
            foreach (var referrer in referrers)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", referrer.MediaType);
                w.WriteString("digest", referrer.Digest);
                w.WriteNumber("size", referrer.Size);
                if (referrer.ArtifactType is { } type)
                {
                    w.WriteString("artifactType", type);
                }

                if (referrer.Annotations is { Count: > 0 } annotations)
                {
                    w.WriteStartObject("annotations");
                    foreach (var (key, value) in annotations)
                    {
                        w.WriteString(key, value);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
