using System.Globalization;
using Berth.Core.Insight.IO;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// GGUF (llama.cpp): magic, version, tensor and key/value counts, the key/value pairs (architecture, context length,
/// tokenizer, file type …), then one info record per tensor (name, dimensions, type, offset). Only these headers are read
/// (large arrays such as a tokenizer's vocabulary are stepped over); the last tensor's end is checked against the file.
/// </summary>
internal static class GgufReader
{
    public const long MaxCount = 1_000_000;
    public const int MaxKeptString = 4096;

    private static readonly string[] TypeNames =
    [
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K",
        "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
        "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4",
    ];

    /// <summary>(elements per block, bytes per block) by ggml type.</summary>
    private static readonly Dictionary<int, (int Block, int Bytes)> Sizes = new()
    {
        [0] = (1, 4), [1] = (1, 2), [2] = (32, 18), [3] = (32, 20), [6] = (32, 22), [7] = (32, 24), [8] = (32, 34), [9] = (32, 36),
        [10] = (256, 84), [11] = (256, 110), [12] = (256, 144), [13] = (256, 176), [14] = (256, 210), [15] = (256, 292),
        [16] = (256, 66), [17] = (256, 74), [18] = (256, 98), [19] = (256, 50), [20] = (32, 18), [21] = (256, 110), [22] = (256, 82),
        [23] = (256, 136), [24] = (1, 1), [25] = (1, 2), [26] = (1, 4), [27] = (1, 8), [28] = (1, 8), [29] = (256, 56), [30] = (1, 2),
        [34] = (256, 54), [35] = (256, 66), [39] = (32, 17),
    };

    /// <summary>llama.cpp's <c>general.file_type</c> (llama_ftype) names.</summary>
    private static readonly Dictionary<long, string> FileTypes = new()
    {
        [0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0", [9] = "Q5_1", [10] = "Q2_K",
        [11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L", [14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S", [17] = "Q5_K_M",
        [18] = "Q6_K", [19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S", [22] = "IQ3_XS", [23] = "IQ3_XXS", [24] = "IQ1_S",
        [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M", [28] = "IQ2_S", [29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M",
        [32] = "BF16", [36] = "TQ1_0", [37] = "TQ2_0", [38] = "MXFP4_MOE",
    };

    public static bool Sniff(ReadOnlySpan<byte> head) => head.Length >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F';

    public static async Task ReadAsync(RangeReader reader, InsightBuilder insight, CancellationToken cancellationToken)
    {
        insight.Format = "gguf";
        insight.Framework = "gguf";
        var cursor = new ByteCursor(reader);
        cursor.Skip(4);
        var version = await cursor.ReadUInt32Async(cancellationToken);
        if (version is < 1 or > 3)
        {
            throw new InsightFormatException($"GGUF version {version} is not one Berth reads (1 to 3)");
        }

        var v1 = version == 1;
        var tensorCount = v1 ? await cursor.ReadUInt32Async(cancellationToken) : await cursor.ReadUInt64Async(cancellationToken);
        var kvCount = v1 ? await cursor.ReadUInt32Async(cancellationToken) : await cursor.ReadUInt64Async(cancellationToken);
        if (tensorCount > MaxCount || kvCount > MaxCount)
        {
            throw new InsightFormatException($"the header declares {tensorCount} tensors and {kvCount} keys; Berth reads at most {MaxCount} of each");
        }

        insight.Property("gguf.version", version.ToString(CultureInfo.InvariantCulture));
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        long alignment = 32;
        long? fileType = null;
        for (ulong i = 0; i < kvCount; i++)
        {
            var key = await ReadStringAsync(cursor, v1, cancellationToken);
            var type = await cursor.ReadUInt32Async(cancellationToken);
            var value = await ReadValueAsync(cursor, type, v1, depth: 0, cancellationToken);
            if (key == "general.alignment" && long.TryParse(value, CultureInfo.InvariantCulture, out var a))
            {
                alignment = a is > 0 and <= 1 << 20 && (a & (a - 1)) == 0 ? a : throw new InsightFormatException($"general.alignment {a} is not a power of two");
            }

            if (key == "general.file_type" && long.TryParse(value, CultureInfo.InvariantCulture, out var ft))
            {
                fileType = ft;
            }

            values.TryAdd(key, value);
        }

        var typeCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        long parameters = 0;
        long dataEnd = 0;
        for (ulong i = 0; i < tensorCount; i++)
        {
            var name = await ReadStringAsync(cursor, v1, cancellationToken);
            var dims = await cursor.ReadUInt32Async(cancellationToken);
            if (dims > 8)
            {
                throw new InsightFormatException($"tensor '{SafetensorsReader.Show(name)}' has {dims} dimensions; GGUF allows at most 8");
            }

            long count = 1;
            for (var d = 0; d < dims; d++)
            {
                var size = v1 ? await cursor.ReadUInt32Async(cancellationToken) : await cursor.ReadUInt64Async(cancellationToken);
                count = checked(count * (long)Math.Min(size, long.MaxValue));
            }

            var type = (int)await cursor.ReadUInt32Async(cancellationToken);
            var offset = await cursor.ReadUInt64Async(cancellationToken);
            var typeName = type >= 0 && type < TypeNames.Length ? TypeNames[type] : $"type{type}";
            typeCounts[typeName] = typeCounts.GetValueOrDefault(typeName) + count;
            parameters = checked(parameters + count);
            var bytes = Sizes.TryGetValue(type, out var s) ? checked(((count + s.Block - 1) / s.Block) * s.Bytes) : 0;
            dataEnd = Math.Max(dataEnd, checked((long)Math.Min(offset, long.MaxValue) + bytes));
        }

        var dataStart = (cursor.Position + alignment - 1) / alignment * alignment;
        if (tensorCount > 0 && dataStart + dataEnd > reader.Length)
        {
            throw new InsightFormatException($"the tensors' data should end at byte {dataStart + dataEnd} but the file has {reader.Length} (truncated?)");
        }

        foreach (var (type, count) in typeCounts)
        {
            insight.Dtypes[type.ToLowerInvariant()] = count;
        }

        insight.Parameters = parameters;
        insight.Property("tensors", tensorCount.ToString(CultureInfo.InvariantCulture));
        var architecture = values.GetValueOrDefault("general.architecture");
        foreach (var (key, value) in values)
        {
            if (key.StartsWith("general.", StringComparison.Ordinal) || key is "tokenizer.ggml.model" or "tokenizer.ggml.pre" ||
                (architecture is not null && key.StartsWith(architecture + ".", StringComparison.Ordinal)))
            {
                insight.Property(key, value);
            }
        }

        insight.Quantization = fileType is { } f ? FileTypes.GetValueOrDefault(f, $"file_type {f}")
            : typeCounts.Where(t => t.Key is not ("F32" or "F16" or "BF16" or "F64")).OrderByDescending(t => t.Value).Select(t => t.Key).FirstOrDefault()
              ?? typeCounts.OrderByDescending(t => t.Value).Select(t => t.Key).FirstOrDefault();
    }

    private static async ValueTask<string> ReadStringAsync(ByteCursor cursor, bool v1, CancellationToken cancellationToken)
    {
        var length = v1 ? await cursor.ReadUInt32Async(cancellationToken) : await cursor.ReadUInt64Async(cancellationToken);
        if (length > (ulong)cursor.Remaining)
        {
            throw new InsightFormatException($"a string of {length} bytes at byte {cursor.Position} runs past the end of the file");
        }

        if (length > MaxKeptString)
        {
            var kept = await cursor.ReadUtf8Async(MaxKeptString, cancellationToken);
            cursor.Skip((long)length - MaxKeptString);
            return kept + "…";
        }

        return await cursor.ReadUtf8Async((int)length, cancellationToken);
    }

    /// <summary>A value as text; an array as "[n items]" (its items are stepped over).</summary>
    private static async ValueTask<string> ReadValueAsync(ByteCursor cursor, uint type, bool v1, int depth, CancellationToken cancellationToken)
    {
        switch (type)
        {
            case 0: return (await cursor.ReadByteAsync(cancellationToken)).ToString(CultureInfo.InvariantCulture);
            case 1: return ((sbyte)await cursor.ReadByteAsync(cancellationToken)).ToString(CultureInfo.InvariantCulture);
            case 2: return ((ushort)await Fixed(cursor, 2, cancellationToken)).ToString(CultureInfo.InvariantCulture);
            case 3: return ((short)await Fixed(cursor, 2, cancellationToken)).ToString(CultureInfo.InvariantCulture);
            case 4: return (await cursor.ReadUInt32Async(cancellationToken)).ToString(CultureInfo.InvariantCulture);
            case 5: return ((int)await cursor.ReadUInt32Async(cancellationToken)).ToString(CultureInfo.InvariantCulture);
            case 6: return BitConverter.Int32BitsToSingle((int)await cursor.ReadUInt32Async(cancellationToken)).ToString("R", CultureInfo.InvariantCulture);
            case 7: return await cursor.ReadByteAsync(cancellationToken) != 0 ? "true" : "false";
            case 8: return await ReadStringAsync(cursor, v1, cancellationToken);
            case 10: return (await cursor.ReadUInt64Async(cancellationToken)).ToString(CultureInfo.InvariantCulture);
            case 11: return ((long)await cursor.ReadUInt64Async(cancellationToken)).ToString(CultureInfo.InvariantCulture);
            case 12: return BitConverter.Int64BitsToDouble((long)await cursor.ReadUInt64Async(cancellationToken)).ToString("R", CultureInfo.InvariantCulture);
            case 9:
            {
                if (depth > 2)
                {
                    throw new InsightFormatException("arrays nested more than 3 deep");
                }

                var itemType = await cursor.ReadUInt32Async(cancellationToken);
                var count = v1 ? await cursor.ReadUInt32Async(cancellationToken) : await cursor.ReadUInt64Async(cancellationToken);
                var width = itemType switch
                {
                    0 or 1 or 7 => 1,
                    2 or 3 => 2,
                    4 or 5 or 6 => 4,
                    10 or 11 or 12 => 8,
                    _ => 0,
                };
                if (width > 0)
                {
                    if (count > (ulong)(cursor.Remaining / width))
                    {
                        throw new InsightFormatException($"an array of {count} items at byte {cursor.Position} runs past the end of the file");
                    }

                    cursor.Skip((long)count * width);
                }
                else if (itemType is 8 or 9)
                {
                    if (count > (ulong)cursor.Remaining || count > 50_000_000)
                    {
                        throw new InsightFormatException($"an array of {count} items at byte {cursor.Position} runs past the end of the file");
                    }

                    for (ulong i = 0; i < count; i++)
                    {
                        if (itemType == 8)
                        {
                            var length = v1 ? await cursor.ReadUInt32Async(cancellationToken) : await cursor.ReadUInt64Async(cancellationToken);
                            cursor.Skip((long)Math.Min(length, long.MaxValue));
                        }
                        else
                        {
                            await ReadValueAsync(cursor, 9, v1, depth + 1, cancellationToken);
                        }
                    }
                }
                else
                {
                    throw new InsightFormatException($"an array of value type {itemType}, which GGUF does not define");
                }

                return $"[{count} items]";
            }

            default:
                throw new InsightFormatException($"value type {type} at byte {cursor.Position}, which GGUF does not define");
        }
    }

    private static async ValueTask<ulong> Fixed(ByteCursor cursor, int bytes, CancellationToken cancellationToken)
    {
        var data = await cursor.ReadBytesAsync(bytes, cancellationToken);
        return bytes == 2 ? BitConverter.ToUInt16(data) : BitConverter.ToUInt32(data);
    }
}
