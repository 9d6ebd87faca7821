using Microsoft.ML.OnnxRuntime.Tensors;

namespace Berth.Cli.Serving;

/// <summary>One input or output of a served model: its name, ONNX element type, protocol datatype and shape (-1 for a dimension of any size).</summary>
internal sealed record TensorSpec(string Name, TensorElementType ElementType, string Datatype, IReadOnlyList<long> Shape);
