using System.Globalization;
using Berth.Contracts.Dtos;
using Berth.Core.Insight.IO;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// TensorFlow SavedModel: <c>saved_model.pb</c>, a <c>SavedModel</c> protobuf (saved_model.proto, meta_graph.proto): per
/// meta graph its tags and TensorFlow version and its signatures (inputs and outputs with dtypes and shapes). The graph
/// itself is jumped over. The signature <c>serving_default</c> (else the first) is the version's signature.
/// </summary>
internal static class SavedModelReader
{
    private static readonly Dictionary<long, string> DataTypes = new()
    {
        [1] = "float32", [2] = "float64", [3] = "int32", [4] = "uint8", [5] = "int16", [6] = "int8", [7] = "string",
        [8] = "complex64", [9] = "int64", [10] = "bool", [14] = "bfloat16", [17] = "uint16", [18] = "complex128",
        [19] = "float16", [20] = "resource", [21] = "variant", [22] = "uint32", [23] = "uint64",
    };

    public static async Task ReadAsync(RangeReader reader, InsightBuilder insight, CancellationToken cancellationToken)
    {
        insight.Format = "savedmodel";
        insight.Framework = "tensorflow";
        var proto = new ProtoReader(new ByteCursor(reader));
        var signatures = new List<(string Name, List<TensorSignature> Inputs, List<TensorSignature> Outputs, string? Method)>();
        var tags = new List<string>();
        var metaGraphs = 0;
        while (await proto.NextAsync(reader.Length, cancellationToken))
        {
            if (proto.Field == 1 && proto.WireType == 0)
            {
                insight.Property("schema_version", (await proto.VarintAsync(cancellationToken)).ToString(CultureInfo.InvariantCulture));
            }
            else if (proto.Field == 2 && proto.WireType == 2)
            {
                metaGraphs++;
                var end = await proto.LengthAsync(cancellationToken);
                while (await proto.NextAsync(end, cancellationToken))
                {
                    if (proto.Field == 1 && proto.WireType == 2)
                    {
                        var infoEnd = await proto.LengthAsync(cancellationToken);
                        while (await proto.NextAsync(infoEnd, cancellationToken))
                        {
                            if (proto.Field == 4 && proto.WireType == 2) tags.Add(await proto.StringAsync(cancellationToken));
                            else if (proto.Field == 5 && proto.WireType == 2) insight.Property("tensorflow_version", await proto.StringAsync(cancellationToken));
                            else await proto.SkipAsync(cancellationToken);
                        }
                    }
                    else if (proto.Field == 5 && proto.WireType == 2 && signatures.Count < 100)
                    {
                        signatures.Add(await ReadSignatureEntryAsync(proto, await proto.LengthAsync(cancellationToken), cancellationToken));
                    }
                    else
                    {
                        await proto.SkipAsync(cancellationToken);
                    }
                }
            }
            else
            {
                await proto.SkipAsync(cancellationToken);
            }
        }

        if (metaGraphs == 0)
        {
            throw new InsightFormatException("saved_model.pb holds no meta graph");
        }

        if (tags.Count > 0)
        {
            insight.Property("tags", string.Join(", ", tags.Distinct(StringComparer.Ordinal).Take(20)));
        }

        if (signatures.Count > 0)
        {
            insight.Property("signatures", string.Join(", ", signatures.Select(s => s.Method is null ? s.Name : $"{s.Name} ({s.Method})")));
            var main = signatures.FirstOrDefault(s => s.Name == "serving_default");
            if (main.Name is null)
            {
                main = signatures[0];
            }

            insight.Inputs = main.Inputs.Take(InsightBuilder.MaxSignature).ToList();
            insight.Outputs = main.Outputs.Take(InsightBuilder.MaxSignature).ToList();
        }
    }

    private static async Task<(string, List<TensorSignature>, List<TensorSignature>, string?)> ReadSignatureEntryAsync(ProtoReader proto, long end, CancellationToken cancellationToken)
    {
        var name = "";
        var inputs = new List<TensorSignature>();
        var outputs = new List<TensorSignature>();
        string? method = null;
        while (await proto.NextAsync(end, cancellationToken))
        {
            if (proto.Field == 1 && proto.WireType == 2)
            {
                name = await proto.StringAsync(cancellationToken);
            }
            else if (proto.Field == 2 && proto.WireType == 2)
            {
                var defEnd = await proto.LengthAsync(cancellationToken);
                while (await proto.NextAsync(defEnd, cancellationToken))
                {
                    if (proto.Field is 1 or 2 && proto.WireType == 2)
                    {
                        var list = proto.Field == 1 ? inputs : outputs;
                        var tensor = await ReadTensorEntryAsync(proto, await proto.LengthAsync(cancellationToken), cancellationToken);
                        if (list.Count < InsightBuilder.MaxSignature)
                        {
                            list.Add(tensor);
                        }
                    }
                    else if (proto.Field == 3 && proto.WireType == 2)
                    {
                        method = await proto.StringAsync(cancellationToken);
                    }
                    else
                    {
                        await proto.SkipAsync(cancellationToken);
                    }
                }
            }
            else
            {
                await proto.SkipAsync(cancellationToken);
            }
        }

        return (name, inputs.OrderBy(i => i.Name, StringComparer.Ordinal).ToList(), outputs.OrderBy(o => o.Name, StringComparer.Ordinal).ToList(), method);
    }

    /// <summary>A map entry (key, TensorInfo): the key names the input; the tensor's dtype and shape.</summary>
    private static async Task<TensorSignature> ReadTensorEntryAsync(ProtoReader proto, long end, CancellationToken cancellationToken)
    {
        var key = "";
        string? type = null;
        List<string>? shape = null;
        while (await proto.NextAsync(end, cancellationToken))
        {
            if (proto.Field == 1 && proto.WireType == 2)
            {
                key = await proto.StringAsync(cancellationToken);
            }
            else if (proto.Field == 2 && proto.WireType == 2)
            {
                var infoEnd = await proto.LengthAsync(cancellationToken);
                while (await proto.NextAsync(infoEnd, cancellationToken))
                {
                    if (proto.Field == 2 && proto.WireType == 0)
                    {
                        var code = await proto.VarintAsync(cancellationToken);
                        type = DataTypes.GetValueOrDefault(code, $"type{code}");
                    }
                    else if (proto.Field == 3 && proto.WireType == 2)
                    {
                        shape = [];
                        var shapeEnd = await proto.LengthAsync(cancellationToken);
                        while (await proto.NextAsync(shapeEnd, cancellationToken))
                        {
                            if (proto.Field == 2 && proto.WireType == 2)
                            {
                                var dimEnd = await proto.LengthAsync(cancellationToken);
                                var size = "?";
                                while (await proto.NextAsync(dimEnd, cancellationToken))
                                {
                                    if (proto.Field == 1 && proto.WireType == 0)
                                    {
                                        var value = await proto.VarintAsync(cancellationToken);
                                        size = value < 0 ? "?" : value.ToString(CultureInfo.InvariantCulture);
                                    }
                                    else if (proto.Field == 2 && proto.WireType == 2)
                                    {
                                        size = await proto.StringAsync(cancellationToken);
                                    }
                                    else
                                    {
                                        await proto.SkipAsync(cancellationToken);
                                    }
                                }

                                if (shape.Count < 32)
                                {
                                    shape.Add(size);
                                }
                            }
                            else if (proto.Field == 3 && proto.WireType == 0 && await proto.VarintAsync(cancellationToken) != 0)
                            {
                                shape = null;
                                break;
                            }
                            else if (proto.WireType != 0 || proto.Field != 3)
                            {
                                await proto.SkipAsync(cancellationToken);
                            }
                        }

                        if (shape is null)
                        {
                            proto.Cursor.Position = shapeEnd;
                        }
                    }
                    else
                    {
                        await proto.SkipAsync(cancellationToken);
                    }
                }
            }
            else
            {
                await proto.SkipAsync(cancellationToken);
            }
        }

        return new TensorSignature(key, type, shape);
    }
}
