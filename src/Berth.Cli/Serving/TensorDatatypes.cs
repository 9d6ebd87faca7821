using Microsoft.ML.OnnxRuntime.Tensors;

namespace Berth.Cli.Serving;

/// <summary>
/// The Open Inference Protocol's tensor datatypes (BOOL, UINT8 … UINT64, INT8 … INT64, FP16, FP32, FP64, BYTES) and the
/// ONNX element types they stand for. BYTES carries ONNX string tensors as JSON strings.
/// </summary>
internal static class TensorDatatypes
{
    private static readonly Dictionary<TensorElementType, string> Names = new()
    {
        [TensorElementType.Bool] = "BOOL",
        [TensorElementType.UInt8] = "UINT8",
        [TensorElementType.UInt16] = "UINT16",
        [TensorElementType.UInt32] = "UINT32",
        [TensorElementType.UInt64] = "UINT64",
        [TensorElementType.Int8] = "INT8",
        [TensorElementType.Int16] = "INT16",
        [TensorElementType.Int32] = "INT32",
        [TensorElementType.Int64] = "INT64",
        [TensorElementType.Float16] = "FP16",
        [TensorElementType.Float] = "FP32",
        [TensorElementType.Double] = "FP64",
        [TensorElementType.String] = "BYTES",
    };

    /// <summary>Every datatype the protocol defines (BF16 is Triton's own and not served).</summary>
    public static IReadOnlyCollection<string> All { get; } = [.. Names.Values];

    /// <summary>The protocol's name of an ONNX element type; null for types the protocol cannot carry (complex numbers, bfloat16 …).</summary>
    public static string? NameOf(TensorElementType type) => Names.GetValueOrDefault(type);
}
