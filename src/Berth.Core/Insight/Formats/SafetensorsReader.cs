using System.Buffers.Binary;
using System.Text.Json;
using Berth.Core.Insight.IO;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// safetensors: an 8-byte little-endian header length, a JSON header (tensor name → dtype, shape, data offsets; and
/// <c>__metadata__</c>), then the tensors' bytes. Only the header is read; every tensor's offsets are checked against its
/// dtype and shape and against the file's length, as the format's specification asks.
/// </summary>
internal static class SafetensorsReader
{
    /// <summary>The specification's limit on the header.</summary>
    public const long MaxHeader = 100L * 1024 * 1024;

    private static readonly Dictionary<string, (string Name, int Bits)> Dtypes = new(StringComparer.Ordinal)
    {
        ["F64"] = ("float64", 64), ["F32"] = ("float32", 32), ["F16"] = ("float16", 16), ["BF16"] = ("bfloat16", 16),
        ["I64"] = ("int64", 64), ["I32"] = ("int32", 32), ["I16"] = ("int16", 16), ["I8"] = ("int8", 8),
        ["U64"] = ("uint64", 64), ["U32"] = ("uint32", 32), ["U16"] = ("uint16", 16), ["U8"] = ("uint8", 8),
        ["BOOL"] = ("bool", 8), ["F8_E4M3"] = ("float8_e4m3fn", 8), ["F8_E5M2"] = ("float8_e5m2", 8), ["F8_E8M0"] = ("float8_e8m0", 8),
        ["F6_E2M3"] = ("float6_e2m3", 6), ["F6_E3M2"] = ("float6_e3m2", 6), ["F4"] = ("float4_e2m1", 4), ["C64"] = ("complex64", 64),
    };

    /// <summary>Whether the first bytes look like safetensors: a plausible header length, then '{'.</summary>
    public static bool Sniff(ReadOnlySpan<byte> head, long length) =>
        head.Length >= 9 && head[8] == '{' && BinaryPrimitives.ReadUInt64LittleEndian(head) is var n && n >= 2 && n <= MaxHeader && (long)n <= length - 8;

    public static async Task ReadAsync(RangeReader reader, InsightBuilder insight, CancellationToken cancellationToken)
    {
        insight.Format = "safetensors";
        var prefix = await reader.ReadExactlyAtAsync(0, 8, cancellationToken);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeader || (long)headerLength > reader.Length - 8)
        {
            throw new InsightFormatException($"the header length {headerLength} does not fit in the file ({reader.Length} bytes)");
        }

        var header = await reader.ReadExactlyAtAsync(8, (int)headerLength, cancellationToken);
        var dataLength = reader.Length - 8 - (long)headerLength;
        using var json = Parse(header);
        if (json.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InsightFormatException("the header is not a JSON object");
        }

        var tensors = 0;
        long end = 0;
        foreach (var property in json.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                ReadMetadata(property.Value, insight);
                continue;
            }

            var t = property.Value;
            if (t.ValueKind != JsonValueKind.Object ||
                !t.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String ||
                !t.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array ||
                !t.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            {
                throw new InsightFormatException($"tensor '{Show(property.Name)}' lacks a dtype, shape or data_offsets");
            }

            var code = dtypeElement.GetString()!;
            if (!Dtypes.TryGetValue(code, out var dtype))
            {
                throw new InsightFormatException($"tensor '{Show(property.Name)}' has dtype '{Show(code)}', which is not a safetensors dtype");
            }

            long count = 1;
            foreach (var dim in shape.EnumerateArray())
            {
                if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var d) || d < 0)
                {
                    throw new InsightFormatException($"tensor '{Show(property.Name)}' has a shape that is not a list of sizes");
                }

                count = checked(count * d);
            }

            if (!offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var stop) || begin < 0 || stop < begin)
            {
                throw new InsightFormatException($"tensor '{Show(property.Name)}' has data_offsets that are not a range");
            }

            var bits = checked(count * dtype.Bits);
            if (stop - begin != (bits + 7) / 8)
            {
                throw new InsightFormatException($"tensor '{Show(property.Name)}' holds {stop - begin} bytes but its dtype and shape need {(bits + 7) / 8}");
            }

            if (stop > dataLength)
            {
                throw new InsightFormatException($"tensor '{Show(property.Name)}' ends at byte {stop} of the data, which has {dataLength} (truncated?)");
            }

            end = Math.Max(end, stop);
            insight.AddDtype(dtype.Name, count);
            tensors++;
        }

        insight.Parameters ??= 0;
        insight.Property("tensors", tensors.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static void ReadMetadata(JsonElement metadata, InsightBuilder insight)
    {
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            throw new InsightFormatException("__metadata__ is not an object of strings");
        }

        foreach (var entry in metadata.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new InsightFormatException($"__metadata__ entry '{Show(entry.Name)}' is not a string");
            }

            insight.Property("metadata." + entry.Name, entry.Value.GetString());
        }

        if (metadata.TryGetProperty("format", out var format))
        {
            insight.Framework = format.GetString() switch
            {
                "pt" => "pytorch",
                "tf" => "tensorflow",
                "flax" => "flax",
                "np" => "numpy",
                "mlx" => "mlx",
                _ => null,
            };
        }
    }

    internal static JsonDocument Parse(ReadOnlyMemory<byte> json)
    {
        // JsonDocument checks a string's UTF-8 only when it is read (and then throws InvalidOperationException).
        if (!System.Text.Unicode.Utf8.IsValid(json.Span))
        {
            throw new InsightFormatException("the JSON is not valid UTF-8");
        }

        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new InsightFormatException("the JSON is malformed: " + e.Message, e);
        }
    }

    internal static string Show(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
