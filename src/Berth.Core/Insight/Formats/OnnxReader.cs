using System.Globalization;
using Berth.Contracts.Dtos;
using Berth.Core.Insight.IO;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// ONNX: a <c>ModelProto</c> in protobuf wire format, walked field by field (onnx.proto): IR version, producer, opsets,
/// metadata properties, and from the graph its inputs and outputs (element types, shapes with symbolic dimensions kept),
/// its initializers' dims (the parameter count; their bytes are jumped over) and the domains of its nodes.
/// </summary>
internal static class OnnxReader
{
    private const int MaxNames = 1_000_000;

    private static readonly Dictionary<long, string> ElementTypes = new()
    {
        [1] = "float32", [2] = "uint8", [3] = "int8", [4] = "uint16", [5] = "int16", [6] = "int32", [7] = "int64", [8] = "string",
        [9] = "bool", [10] = "float16", [11] = "float64", [12] = "uint32", [13] = "uint64", [14] = "complex64", [15] = "complex128",
        [16] = "bfloat16", [17] = "float8e4m3fn", [18] = "float8e4m3fnuz", [19] = "float8e5m2", [20] = "float8e5m2fnuz",
        [21] = "uint4", [22] = "int4", [23] = "float4e2m1",
    };

    public static string ElementType(long code) => ElementTypes.GetValueOrDefault(code, $"type{code}");

    /// <summary>Whether the bytes parse as a ModelProto with an IR version and a graph (ONNX has no magic number).</summary>
    public static async Task<bool> LooksLikeOnnxAsync(RangeReader reader, CancellationToken cancellationToken)
    {
        try
        {
            var proto = new ProtoReader(new ByteCursor(reader));
            bool version = false, graph = false;
            var fields = 0;
            while (fields++ < 64 && await proto.NextAsync(reader.Length, cancellationToken))
            {
                if (proto.Field is < 1 or > 25)
                {
                    return false;
                }

                if (proto.Field == 1 && proto.WireType == 0)
                {
                    version = await proto.VarintAsync(cancellationToken) is > 0 and < 100;
                    continue;
                }

                if (proto.Field == 7 && proto.WireType == 2)
                {
                    graph = true;
                }

                await proto.SkipAsync(cancellationToken);
                if (version && graph)
                {
                    return true;
                }
            }

            return version && graph;
        }
        catch (InsightFormatException)
        {
            return false;
        }
    }

    public static async Task ReadAsync(RangeReader reader, InsightBuilder insight, CancellationToken cancellationToken)
    {
        insight.Format = "onnx";
        insight.Framework = "onnx";
        var proto = new ProtoReader(new ByteCursor(reader));
        var opsets = new List<string>();
        var domains = new SortedSet<string>(StringComparer.Ordinal);
        var sawGraph = false;
        while (await proto.NextAsync(reader.Length, cancellationToken))
        {
            switch (proto.Field)
            {
                case 1 when proto.WireType == 0:
                    insight.Property("ir_version", (await proto.VarintAsync(cancellationToken)).ToString(CultureInfo.InvariantCulture));
                    break;
                case 2 when proto.WireType == 2:
                    insight.Property("producer", await proto.StringAsync(cancellationToken));
                    break;
                case 3 when proto.WireType == 2:
                    insight.Property("producer_version", await proto.StringAsync(cancellationToken));
                    break;
                case 4 when proto.WireType == 2:
                    insight.Property("domain", await proto.StringAsync(cancellationToken));
                    break;
                case 5 when proto.WireType == 0:
                    insight.Property("model_version", (await proto.VarintAsync(cancellationToken)).ToString(CultureInfo.InvariantCulture));
                    break;
                case 7 when proto.WireType == 2:
                    sawGraph = true;
                    await ReadGraphAsync(proto, await proto.LengthAsync(cancellationToken), insight, domains, cancellationToken);
                    break;
                case 8 when proto.WireType == 2:
                {
                    var end = await proto.LengthAsync(cancellationToken);
                    string domain = "";
                    long version = 0;
                    while (await proto.NextAsync(end, cancellationToken))
                    {
                        if (proto.Field == 1 && proto.WireType == 2) domain = await proto.StringAsync(cancellationToken);
                        else if (proto.Field == 2 && proto.WireType == 0) version = await proto.VarintAsync(cancellationToken);
                        else await proto.SkipAsync(cancellationToken);
                    }

                    opsets.Add($"{(domain.Length == 0 ? "ai.onnx" : domain)}:{version}");
                    if (domain is not ("" or "ai.onnx" or "ai.onnx.ml" or "ai.onnx.training" or "ai.onnx.preview.training"))
                    {
                        domains.Add(domain);
                    }

                    break;
                }

                case 14 when proto.WireType == 2:
                {
                    var end = await proto.LengthAsync(cancellationToken);
                    string? key = null, value = null;
                    while (await proto.NextAsync(end, cancellationToken))
                    {
                        if (proto.Field == 1 && proto.WireType == 2) key = await proto.StringAsync(cancellationToken);
                        else if (proto.Field == 2 && proto.WireType == 2) value = await proto.StringAsync(cancellationToken);
                        else await proto.SkipAsync(cancellationToken);
                    }

                    if (key is not null)
                    {
                        insight.Property("metadata." + key, value ?? "");
                    }

                    break;
                }

                default:
                    await proto.SkipAsync(cancellationToken);
                    break;
            }
        }

        if (!sawGraph)
        {
            throw new InsightFormatException("the ONNX model has no graph");
        }

        if (opsets.Count > 0)
        {
            insight.Property("opset", string.Join(", ", opsets));
        }

        if (domains.Count > 0)
        {
            insight.Property("custom_domains", string.Join(", ", domains));
        }
    }

    private static async Task ReadGraphAsync(ProtoReader proto, long end, InsightBuilder insight, SortedSet<string> domains, CancellationToken cancellationToken)
    {
        var inputs = new List<TensorSignature>();
        var outputs = new List<TensorSignature>();
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        var nodes = 0L;
        insight.Parameters ??= 0;
        while (await proto.NextAsync(end, cancellationToken))
        {
            switch (proto.Field)
            {
                case 1 when proto.WireType == 2:
                {
                    nodes++;
                    var nodeEnd = await proto.LengthAsync(cancellationToken);
                    while (await proto.NextAsync(nodeEnd, cancellationToken))
                    {
                        if (proto.Field == 7 && proto.WireType == 2)
                        {
                            var domain = await proto.StringAsync(cancellationToken);
                            if (domain is not ("" or "ai.onnx" or "ai.onnx.ml") && domains.Count < 100)
                            {
                                domains.Add(domain);
                            }
                        }
                        else
                        {
                            await proto.SkipAsync(cancellationToken);
                        }
                    }

                    break;
                }

                case 2 when proto.WireType == 2:
                    insight.Property("graph", await proto.StringAsync(cancellationToken));
                    break;
                case 5 when proto.WireType == 2:
                {
                    var (name, type, count) = await ReadTensorAsync(proto, await proto.LengthAsync(cancellationToken), cancellationToken);
                    insight.AddDtype(type, count);
                    if (initializers.Count < MaxNames)
                    {
                        initializers.Add(name);
                    }

                    break;
                }

                case 11 when proto.WireType == 2:
                    inputs.Add(await ReadValueInfoAsync(proto, await proto.LengthAsync(cancellationToken), cancellationToken));
                    break;
                case 12 when proto.WireType == 2:
                    outputs.Add(await ReadValueInfoAsync(proto, await proto.LengthAsync(cancellationToken), cancellationToken));
                    break;
                default:
                    await proto.SkipAsync(cancellationToken);
                    break;
            }

            if (inputs.Count + outputs.Count > MaxNames)
            {
                throw new InsightFormatException($"the graph declares more than {MaxNames} inputs and outputs");
            }
        }

        insight.Property("nodes", nodes.ToString(CultureInfo.InvariantCulture));
        // Before IR version 4 initializers were listed among the inputs too: those are weights, not inputs.
        insight.Inputs = inputs.Where(i => !initializers.Contains(i.Name)).Take(InsightBuilder.MaxSignature).ToList();
        insight.Outputs = outputs.Take(InsightBuilder.MaxSignature).ToList();
    }

    private static async Task<(string Name, string Type, long Count)> ReadTensorAsync(ProtoReader proto, long end, CancellationToken cancellationToken)
    {
        var dims = new List<long>();
        var name = "";
        long type = 0;
        while (await proto.NextAsync(end, cancellationToken))
        {
            switch (proto.Field)
            {
                case 1 when proto.WireType is 0 or 2:
                    await proto.ReadIntegersAsync(dims, 64, cancellationToken);
                    break;
                case 2 when proto.WireType == 0:
                    type = await proto.VarintAsync(cancellationToken);
                    break;
                case 8 when proto.WireType == 2:
                    name = await proto.StringAsync(cancellationToken);
                    break;
                default:
                    await proto.SkipAsync(cancellationToken);
                    break;
            }
        }

        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0)
            {
                throw new InsightFormatException($"initializer '{SafetensorsReader.Show(name)}' has a negative dimension");
            }

            count = checked(count * d);
        }

        return (name, ElementType(type), count);
    }

    private static async Task<TensorSignature> ReadValueInfoAsync(ProtoReader proto, long end, CancellationToken cancellationToken)
    {
        var name = "";
        string? type = null;
        List<string>? shape = null;
        while (await proto.NextAsync(end, cancellationToken))
        {
            if (proto.Field == 1 && proto.WireType == 2)
            {
                name = await proto.StringAsync(cancellationToken);
            }
            else if (proto.Field == 2 && proto.WireType == 2)
            {
                (type, shape) = await ReadTypeAsync(proto, await proto.LengthAsync(cancellationToken), depth: 0, cancellationToken);
            }
            else
            {
                await proto.SkipAsync(cancellationToken);
            }
        }

        return new TensorSignature(name, type, shape);
    }

    /// <summary>A TypeProto: a tensor's element type and shape; sequences, maps and optionals by name.</summary>
    private static async Task<(string? Type, List<string>? Shape)> ReadTypeAsync(ProtoReader proto, long end, int depth, CancellationToken cancellationToken)
    {
        if (depth > 8)
        {
            throw new InsightFormatException("types nested more than 8 deep");
        }

        string? type = null;
        List<string>? shape = null;
        while (await proto.NextAsync(end, cancellationToken))
        {
            if (proto.Field is 1 or 8 && proto.WireType == 2)
            {
                var tensorEnd = await proto.LengthAsync(cancellationToken);
                while (await proto.NextAsync(tensorEnd, cancellationToken))
                {
                    if (proto.Field == 1 && proto.WireType == 0)
                    {
                        type = ElementType(await proto.VarintAsync(cancellationToken));
                    }
                    else if (proto.Field == 2 && proto.WireType == 2)
                    {
                        shape = await ReadShapeAsync(proto, await proto.LengthAsync(cancellationToken), cancellationToken);
                    }
                    else
                    {
                        await proto.SkipAsync(cancellationToken);
                    }
                }
            }
            else if (proto.Field is 4 or 9 && proto.WireType == 2)
            {
                var (inner, _) = await ReadTypeAsync(proto, await proto.LengthAsync(cancellationToken), depth + 1, cancellationToken);
                type = (proto.Field == 4 ? "sequence" : "optional") + $"<{inner ?? "?"}>";
            }
            else if (proto.Field == 5 && proto.WireType == 2)
            {
                await proto.SkipAsync(cancellationToken);
                type = "map";
            }
            else
            {
                await proto.SkipAsync(cancellationToken);
            }
        }

        return (type, shape);
    }

    private static async Task<List<string>> ReadShapeAsync(ProtoReader proto, long end, CancellationToken cancellationToken)
    {
        var dims = new List<string>();
        while (await proto.NextAsync(end, cancellationToken))
        {
            if (proto.Field != 1 || proto.WireType != 2)
            {
                await proto.SkipAsync(cancellationToken);
                continue;
            }

            var dimEnd = await proto.LengthAsync(cancellationToken);
            var dim = "?";
            while (await proto.NextAsync(dimEnd, cancellationToken))
            {
                if (proto.Field == 1 && proto.WireType == 0) dim = (await proto.VarintAsync(cancellationToken)).ToString(CultureInfo.InvariantCulture);
                else if (proto.Field == 2 && proto.WireType == 2) dim = await proto.StringAsync(cancellationToken);
                else await proto.SkipAsync(cancellationToken);
            }

            if (dims.Count < 32)
            {
                dims.Add(dim);
            }
        }

        return dims;
    }
}
