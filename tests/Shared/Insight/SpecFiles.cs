using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Berth.Testing.Insight;

/// <summary>Model files written from their specifications: safetensors, GGUF, a SavedModel's saved_model.pb, a .keras archive.</summary>
public static class SpecFiles
{
    public sealed record Tensor(string Name, string Dtype, long[] Shape, int BytesPerElement);

    /// <summary>
    /// A safetensors file: 8-byte header length, JSON header, then the data. With <paramref name="sparseData"/>, the data is
    /// not written but the file is extended to its size (a sparse file: a 1 GiB model that costs no disk).
    /// </summary>
    public static void Safetensors(string path, IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, bool sparseData = false)
    {
        var header = new Dictionary<string, object>();
        if (metadata is not null)
        {
            header["__metadata__"] = metadata;
        }

        long offset = 0;
        foreach (var t in tensors)
        {
            var size = t.Shape.Aggregate(1L, (a, b) => a * b) * t.BytesPerElement;
            header[t.Name] = new Dictionary<string, object> { ["dtype"] = t.Dtype, ["shape"] = t.Shape, ["data_offsets"] = new[] { offset, offset + size } };
            offset += size;
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.Write(length);
        file.Write(json);
        if (sparseData)
        {
            file.SetLength(file.Position + offset);
        }
        else
        {
            var random = new Random(1);
            var chunk = new byte[Math.Min(offset, 1 << 20)];
            for (var written = 0L; written < offset; written += chunk.Length)
            {
                random.NextBytes(chunk);
                file.Write(chunk, 0, (int)Math.Min(chunk.Length, offset - written));
            }
        }
    }

    public sealed record GgufTensor(string Name, ulong[] Dims, uint Type, long Bytes);

    /// <summary>A GGUF v3 file: header, key/values (strings, u32, string arrays), tensor infos, aligned data (sparse when asked).</summary>
    public static void Gguf(string path, IReadOnlyList<(string Key, object Value)> values, IReadOnlyList<GgufTensor> tensors, bool sparseData = true)
    {
        using var file = File.Create(path);
        using var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)values.Count);
        foreach (var (key, value) in values)
        {
            String(w, key);
            switch (value)
            {
                case string s:
                    w.Write(8u);
                    String(w, s);
                    break;
                case uint u:
                    w.Write(4u);
                    w.Write(u);
                    break;
                case float f:
                    w.Write(6u);
                    w.Write(f);
                    break;
                case string[] list:
                    w.Write(9u);
                    w.Write(8u);
                    w.Write((ulong)list.Length);
                    foreach (var item in list)
                    {
                        String(w, item);
                    }

                    break;
                default:
                    throw new ArgumentException($"unsupported value {value}");
            }
        }

        long offset = 0;
        foreach (var t in tensors)
        {
            String(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims)
            {
                w.Write(d);
            }

            w.Write(t.Type);
            w.Write((ulong)offset);
            offset += (t.Bytes + 31) / 32 * 32;
        }

        w.Flush();
        var dataStart = (file.Position + 31) / 32 * 32;
        file.SetLength(dataStart + offset);
        if (!sparseData)
        {
            file.Position = dataStart;
            file.Write(new byte[offset]);
        }
    }

    private static void String(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    /// <summary>
    /// A SavedModel's saved_model.pb (saved_model.proto, meta_graph.proto): one meta graph tagged "serve" with a
    /// serving_default signature, its graph_def a blob of bytes that must be stepped over.
    /// </summary>
    public static byte[] SavedModelPb()
    {
        static byte[] Dim(long size) => Field(2, Message(VarintField(1, unchecked((ulong)size))));
        var inputInfo = Message(Field(1, Text("serving_default_image:0")), VarintField(2, 1), Field(3, Message(Dim(-1), Dim(28), Dim(28))));
        var outputInfo = Message(Field(1, Text("StatefulPartitionedCall:0")), VarintField(2, 1), Field(3, Message(Dim(-1), Dim(10))));
        var signature = Message(
            Field(1, Message(Field(1, Text("image")), Field(2, inputInfo))),
            Field(2, Message(Field(1, Text("probabilities")), Field(2, outputInfo))),
            Field(3, Text("tensorflow/serving/predict")));
        var metaInfo = Message(Field(4, Text("serve")), Field(5, Text("2.15.0")));
        var metaGraph = Message(
            Field(1, metaInfo),
            Field(2, new byte[4096]),
            Field(5, Message(Field(1, Text("serving_default")), Field(2, signature))),
            Field(5, Message(Field(1, Text("__saved_model_init_op")), Field(2, Message(Field(3, Text("init")))))));
        return Message(VarintField(1, 1), Field(2, metaGraph));
    }

    /// <summary>A Keras 3 archive: config.json, metadata.json and a weights entry; with a Lambda layer when asked.</summary>
    public static void Keras(string path, bool lambda = false)
    {
        var layers = new List<object>
        {
            new Dictionary<string, object> { ["class_name"] = "InputLayer", ["config"] = new Dictionary<string, object?> { ["batch_shape"] = new int?[] { null, 8 }, ["dtype"] = "float32", ["name"] = "features" } },
            new Dictionary<string, object> { ["class_name"] = "Dense", ["config"] = new Dictionary<string, object> { ["units"] = 3 } },
        };
        if (lambda)
        {
            layers.Add(new Dictionary<string, object> { ["class_name"] = "Lambda", ["config"] = new Dictionary<string, object> { ["function"] = new Dictionary<string, object> { ["class_name"] = "__lambda__", ["config"] = new Dictionary<string, object> { ["code"] = "4wEAAAAAAAAA" } } } });
        }

        var config = new Dictionary<string, object>
        {
            ["module"] = "keras",
            ["class_name"] = "Sequential",
            ["config"] = new Dictionary<string, object> { ["name"] = "classifier", ["layers"] = layers },
        };
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        Entry(zip, "config.json", JsonSerializer.SerializeToUtf8Bytes(config));
        Entry(zip, "metadata.json", """{"keras_version": "3.3.3", "date_saved": "2026-01-01@00:00:00"}"""u8.ToArray());
        Entry(zip, "model.weights.h5", new byte[64]);
    }

    private static void Entry(ZipArchive zip, string name, byte[] bytes)
    {
        using var stream = zip.CreateEntry(name).Open();
        stream.Write(bytes);
    }

    private static byte[] Message(params byte[][] fields) => fields.SelectMany(f => f).ToArray();

    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A length-delimited field.</summary>
    private static byte[] Field(int number, byte[] value) => [.. Raw((ulong)((number << 3) | 2)), .. Raw((ulong)value.Length), .. value];

    private static byte[] VarintField(int number, ulong value) => [.. Raw((ulong)(number << 3)), .. Raw(value)];

    private static byte[] Raw(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }
}
