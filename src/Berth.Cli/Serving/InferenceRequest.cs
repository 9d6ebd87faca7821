using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Berth.Cli.Serving;

/// <summary>
/// An Open Inference Protocol request (<c>{id, parameters, inputs: [{name, shape, datatype, parameters, data}], outputs: [{name}]}</c>)
/// read and checked against a model's signature: every input of the model given once, with its datatype, a shape that fits the
/// model's (any size where the model says -1) and exactly as many elements as the shape holds, flat or nested in row-major
/// order. The tensors it holds are ONNX Runtime values, disposed with the request.
/// </summary>
internal sealed class InferenceRequest : IDisposable
{
    private readonly List<OrtValue> _values = [];

    private InferenceRequest(string? id)
    {
        Id = id;
    }

    public string? Id { get; }

    public List<string> InputNames { get; } = [];

    public IReadOnlyList<OrtValue> InputValues => _values;

    /// <summary>The outputs to answer with, in the order asked (all of the model's when the request names none).</summary>
    public List<TensorSpec> Outputs { get; } = [];

    public static InferenceRequest Read(JsonElement root, ServedModel model, long? maxBatch)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InferenceException(400, ServingErrors.InvalidJson, $"The request body must be a JSON object (an inference request), not {Kind(root)}.");
        }

        string? id = null;
        if (root.TryGetProperty("id", out var idElement))
        {
            id = idElement.ValueKind switch
            {
                JsonValueKind.String => idElement.GetString(),
                JsonValueKind.Null => null,
                _ => throw InferenceException.BadInput($"\"id\" must be a string, not {Kind(idElement)}."),
            };
        }

        CheckParameters(root, "the request");
        var request = new InferenceRequest(id);
        try
        {
            request.ReadInputs(root, model, maxBatch);
            request.ReadOutputs(root, model);
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private void ReadInputs(JsonElement root, ServedModel model, long? maxBatch)
    {
        if (!root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            throw InferenceException.BadInput("The request has no \"inputs\" array.");
        }

        var byName = model.Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        foreach (var input in inputs.EnumerateArray())
        {
            if (input.ValueKind != JsonValueKind.Object)
            {
                throw InferenceException.BadInput($"Each of \"inputs\" must be an object ({{name, shape, datatype, data}}), not {Kind(input)}.");
            }

            var name = input.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw InferenceException.BadInput("An input has no \"name\".");
            if (!byName.TryGetValue(name, out var spec))
            {
                throw InferenceException.BadInput($"The model has no input '{name}'; its inputs: {string.Join(", ", model.Inputs.Select(i => $"{i.Name} ({i.Datatype} {Shape(i.Shape)})"))}.");
            }

            if (InputNames.Contains(name, StringComparer.Ordinal))
            {
                throw InferenceException.BadInput($"Input '{name}' is given twice.");
            }

            CheckParameters(input, $"input '{name}'");
            var datatype = input.TryGetProperty("datatype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : throw InferenceException.BadInput($"Input '{name}' has no \"datatype\".");
            if (!string.Equals(datatype, spec.Datatype, StringComparison.Ordinal))
            {
                var known = TensorDatatypes.All.Contains(datatype, StringComparer.Ordinal) ? "" : $" ('{datatype}' is not a datatype of the protocol)";
                throw InferenceException.BadInput($"Input '{name}' is {spec.Datatype}; the request gives {datatype}{known}.");
            }

            var shape = ReadShape(input, name);
            CheckShape(shape, spec, maxBatch);
            if (!input.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                throw InferenceException.BadInput(input.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("binary_data_size", out _)
                    ? $"Input '{name}' uses the binary tensor extension, which serve-model does not support: give its \"data\" as a JSON array."
                    : $"Input '{name}' has no \"data\" array.");
            }

            var count = 1L;
            foreach (var dimension in shape)
            {
                count = count * dimension > int.MaxValue ? throw InferenceException.BadInput($"Input '{name}': the shape {Shape(shape)} holds too many elements.") : count * dimension;
            }

            // Count before allocating: a shape of a billion elements with three in "data" must not reserve the memory.
            var given = CountLeaves(data, spec, count);
            if (given != count)
            {
                throw InferenceException.BadInput(given > count
                    ? $"Input '{name}' has more elements than its shape {Shape(shape)} holds ({count})."
                    : $"Input '{name}' has {given} elements; its shape {Shape(shape)} holds {count}.");
            }

            InputNames.Add(name);
            _values.Add(CreateValue(spec, shape, data, count));
        }

        if (model.Inputs.FirstOrDefault(i => !InputNames.Contains(i.Name, StringComparer.Ordinal)) is { } missing)
        {
            throw InferenceException.BadInput($"Input '{missing.Name}' ({missing.Datatype} {Shape(missing.Shape)}) is missing.");
        }
    }

    private void ReadOutputs(JsonElement root, ServedModel model)
    {
        if (!root.TryGetProperty("outputs", out var outputs) || outputs.ValueKind == JsonValueKind.Null)
        {
            Outputs.AddRange(model.Outputs);
            return;
        }

        if (outputs.ValueKind != JsonValueKind.Array)
        {
            throw InferenceException.BadInput($"\"outputs\" must be an array of {{name}} objects, not {Kind(outputs)}.");
        }

        foreach (var output in outputs.EnumerateArray())
        {
            var name = output.ValueKind == JsonValueKind.Object && output.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                ? n.GetString()!
                : throw InferenceException.BadInput("Each of \"outputs\" must be an object with a \"name\".");
            CheckParameters(output, $"output '{name}'");
            if (output.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object &&
                p.TryGetProperty("binary_data", out var binary) && binary.ValueKind == JsonValueKind.True)
            {
                throw InferenceException.BadInput($"Output '{name}' asks for binary data, which serve-model does not support: drop \"binary_data\" to get JSON.");
            }

            var spec = model.Outputs.FirstOrDefault(o => string.Equals(o.Name, name, StringComparison.Ordinal))
                ?? throw new InferenceException(400, ServingErrors.UnknownOutput, $"The model has no output '{name}'; its outputs: {string.Join(", ", model.Outputs.Select(o => o.Name))}.");
            if (!Outputs.Contains(spec))
            {
                Outputs.Add(spec);
            }
        }

        if (Outputs.Count == 0)
        {
            Outputs.AddRange(model.Outputs);
        }
    }

    private static long[] ReadShape(JsonElement input, string name)
    {
        if (!input.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw InferenceException.BadInput($"Input '{name}' has no \"shape\" array.");
        }

        var shape = new long[shapeElement.GetArrayLength()];
        var i = 0;
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var value) || value < 0 || value > int.MaxValue)
            {
                throw InferenceException.BadInput($"Input '{name}': the shape {dimension.GetRawText()} is not a dimension size (a whole number from 0).");
            }

            shape[i++] = value;
        }

        return shape;
    }

    private static void CheckShape(long[] shape, TensorSpec spec, long? maxBatch)
    {
        var fits = shape.Length == spec.Shape.Count;
        for (var i = 0; fits && i < shape.Length; i++)
        {
            fits = spec.Shape[i] < 0 || spec.Shape[i] == shape[i];
        }

        if (!fits)
        {
            throw InferenceException.BadInput($"Input '{spec.Name}' has shape {Shape(spec.Shape)} (-1: any size); the request gives {Shape(shape)}.");
        }

        if (maxBatch is { } max && shape.Length > 0 && shape[0] > max)
        {
            throw new InferenceException(400, ServingErrors.BatchLimitExceeded, $"Input '{spec.Name}' has a batch of {shape[0]}; this server takes at most {max} (--max-batch).");
        }
    }

    private static OrtValue CreateValue(TensorSpec spec, long[] shape, JsonElement data, long count)
    {
        if (spec.ElementType == TensorElementType.String)
        {
            var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
            try
            {
                Fill(data, (element, index) =>
                    value.StringTensorSetElementAt(element.ValueKind == JsonValueKind.String ? element.GetString().AsSpan() : throw Wrong(spec, element), index));
                return value;
            }
            catch
            {
                value.Dispose();
                throw;
            }
        }

        return spec.ElementType switch
        {
            TensorElementType.Bool => Numbers(spec, shape, data, count, e => e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Wrong(spec, e),
            }),
            TensorElementType.UInt8 => Numbers(spec, shape, data, count, e => e.ValueKind == JsonValueKind.Number && e.TryGetByte(out var v) ? v : throw Wrong(spec, e)),
            TensorElementType.UInt16 => Numbers(spec, shape, data, count, e => e.ValueKind == JsonValueKind.Number && e.TryGetUInt16(out var v) ? v : throw Wrong(spec, e)),
            TensorElementType.UInt32 => Numbers(spec, shape, data, count, e => e.ValueKind == JsonValueKind.Number && e.TryGetUInt32(out var v) ? v : throw Wrong(spec, e)),
            TensorElementType.UInt64 => Numbers(spec, shape, data, count, e => e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out var v) ? v : throw Wrong(spec, e)),
            TensorElementType.Int8 => Numbers(spec, shape, data, count, e => e.ValueKind == JsonValueKind.Number && e.TryGetSByte(out var v) ? v : throw Wrong(spec, e)),
            TensorElementType.Int16 => Numbers(spec, shape, data, count, e => e.ValueKind == JsonValueKind.Number && e.TryGetInt16(out var v) ? v : throw Wrong(spec, e)),
            TensorElementType.Int32 => Numbers(spec, shape, data, count, e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : throw Wrong(spec, e)),
            TensorElementType.Int64 => Numbers(spec, shape, data, count, e => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) ? v : throw Wrong(spec, e)),
            TensorElementType.Float16 => Numbers(spec, shape, data, count, e => (Float16)(float)Real(spec, e)),
            TensorElementType.Float => Numbers(spec, shape, data, count, e => (float)Real(spec, e)),
            TensorElementType.Double => Numbers(spec, shape, data, count, e => Real(spec, e)),
            _ => throw new InvalidOperationException($"Unexpected element type {spec.ElementType}."),
        };
    }

    private static OrtValue Numbers<T>(TensorSpec spec, long[] shape, JsonElement data, long count, Func<JsonElement, T> convert)
        where T : unmanaged
    {
        var values = new T[count];
        Fill(data, (element, index) => values[index] = convert(element));
        return OrtValue.CreateTensorValueFromMemory(values, shape);
    }

    /// <summary>Counts the leaves of <paramref name="data"/> (flat or nested arrays); more than <paramref name="limit"/> stops the count.</summary>
    private static long CountLeaves(JsonElement data, TensorSpec spec, long limit, int depth = 0)
    {
        if (depth > 64)
        {
            throw InferenceException.BadInput($"Input '{spec.Name}': \"data\" is nested too deeply.");
        }

        var count = 0L;
        foreach (var element in data.EnumerateArray())
        {
            count += element.ValueKind == JsonValueKind.Array ? CountLeaves(element, spec, limit - count, depth + 1) : 1;
            if (count > limit)
            {
                break;
            }
        }

        return count;
    }

    /// <summary>Visits the leaves of <paramref name="data"/> in row-major order, with their flat index.</summary>
    private static void Fill(JsonElement data, Action<JsonElement, int> set)
    {
        var index = 0;
        Walk(data, set, ref index);
    }

    private static void Walk(JsonElement array, Action<JsonElement, int> set, ref int index)
    {
        foreach (var element in array.EnumerateArray())
        {
            if (element.ValueKind == JsonValueKind.Array)
            {
                Walk(element, set, ref index);
            }
            else
            {
                set(element, index++);
            }
        }
    }

    /// <summary>A floating-point element: a JSON number, or "NaN", "Infinity", "-Infinity" (JSON has no literal for them).</summary>
    private static double Real(TensorSpec spec, JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => element.GetDouble(),
        JsonValueKind.String when element.GetString() is "NaN" => double.NaN,
        JsonValueKind.String when element.GetString() is "Infinity" => double.PositiveInfinity,
        JsonValueKind.String when element.GetString() is "-Infinity" => double.NegativeInfinity,
        _ => throw Wrong(spec, element),
    };

    private static InferenceException Wrong(TensorSpec spec, JsonElement element)
    {
        var text = element.GetRawText();
        text = text.Length > 40 ? text[..40] + "…" : text;
        var expected = spec.Datatype switch
        {
            "BOOL" => "true or false",
            "BYTES" => "a string",
            "FP16" or "FP32" or "FP64" => "a number",
            _ => $"a whole number that fits {spec.Datatype}",
        };
        return InferenceException.BadInput($"Input '{spec.Name}' is {spec.Datatype}: {text} is not {expected}.");
    }

    private static void CheckParameters(JsonElement element, string owner)
    {
        if (element.TryGetProperty("parameters", out var parameters) && parameters.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            throw InferenceException.BadInput($"The \"parameters\" of {owner} must be an object, not {Kind(parameters)}.");
        }
    }

    public static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "an object",
    };

    public void Dispose()
    {
        foreach (var value in _values)
        {
            value.Dispose();
        }
    }
}
