using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Berth.Cli.Serving;

/// <summary>
/// Runs a checked <see cref="InferenceRequest"/> on its model and writes the protocol's answer,
/// <c>{model_name, model_version, id, outputs: [{name, datatype, shape, data}]}</c>, with <c>data</c> flat in row-major order.
/// Floating-point values JSON cannot write (NaN, ±infinity) are written as the strings "NaN", "Infinity", "-Infinity".
/// </summary>
internal static class InferenceResponse
{
    public static void Run(ServedModel model, InferenceRequest request, RunOptions runOptions, Utf8JsonWriter writer)
    {
        var outputNames = request.Outputs.Select(o => o.Name).ToList();
        IDisposableReadOnlyCollection<OrtValue> results;
        try
        {
            results = model.Session.Run(runOptions, request.InputNames, request.InputValues, outputNames);
        }
        catch (OnnxRuntimeException e)
        {
            // Input that fits the signature can still be refused by an operator (a reshape to a size the data does not have).
            throw new InferenceException(400, ServingErrors.InvalidInput, $"ONNX Runtime refused the input: {e.Message.ReplaceLineEndings(" ")}");
        }

        using (results)
        {
            writer.WriteStartObject();
            writer.WriteString("model_name", model.Version.Model);
            writer.WriteString("model_version", model.VersionText);
            writer.WriteString("id", request.Id ?? Guid.NewGuid().ToString());
            writer.WriteStartArray("outputs");
            var i = 0;
            foreach (var value in results)
            {
                WriteTensor(writer, outputNames[i++], value);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }

    private static void WriteTensor(Utf8JsonWriter writer, string name, OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("datatype", TensorDatatypes.NameOf(info.ElementDataType) ?? info.ElementDataType.ToString());
        writer.WriteStartArray("shape");
        foreach (var dimension in info.Shape)
        {
            writer.WriteNumberValue(dimension);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("data");
        switch (info.ElementDataType)
        {
            case TensorElementType.Bool:
                foreach (var v in value.GetTensorDataAsSpan<bool>()) writer.WriteBooleanValue(v);
                break;
            case TensorElementType.UInt8:
                foreach (var v in value.GetTensorDataAsSpan<byte>()) writer.WriteNumberValue(v);
                break;
            case TensorElementType.UInt16:
                foreach (var v in value.GetTensorDataAsSpan<ushort>()) writer.WriteNumberValue(v);
                break;
            case TensorElementType.UInt32:
                foreach (var v in value.GetTensorDataAsSpan<uint>()) writer.WriteNumberValue(v);
                break;
            case TensorElementType.UInt64:
                foreach (var v in value.GetTensorDataAsSpan<ulong>()) writer.WriteNumberValue(v);
                break;
            case TensorElementType.Int8:
                foreach (var v in value.GetTensorDataAsSpan<sbyte>()) writer.WriteNumberValue(v);
                break;
            case TensorElementType.Int16:
                foreach (var v in value.GetTensorDataAsSpan<short>()) writer.WriteNumberValue(v);
                break;
            case TensorElementType.Int32:
                foreach (var v in value.GetTensorDataAsSpan<int>()) writer.WriteNumberValue(v);
                break;
            case TensorElementType.Int64:
                foreach (var v in value.GetTensorDataAsSpan<long>()) writer.WriteNumberValue(v);
                break;
            case TensorElementType.Float16:
                foreach (var v in value.GetTensorDataAsSpan<Float16>()) WriteReal(writer, v.ToFloat());
                break;
            case TensorElementType.Float:
                foreach (var v in value.GetTensorDataAsSpan<float>()) WriteReal(writer, v);
                break;
            case TensorElementType.Double:
                foreach (var v in value.GetTensorDataAsSpan<double>()) WriteReal(writer, v);
                break;
            case TensorElementType.String:
                foreach (var v in value.GetStringTensorAsArray()) writer.WriteStringValue(v);
                break;
            default:
                throw new InferenceException(500, ServingErrors.InferenceFailed, $"Output '{name}' has element type {info.ElementDataType}, which the protocol cannot carry.");
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteReal(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(float.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void WriteReal(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }
}
