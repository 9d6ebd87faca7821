using System.Globalization;
using System.Text.Json;
using Berth.Contracts.Dtos;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// A Keras model's configuration (a .keras archive's config.json, or the model_config of a legacy HDF5 file): its class,
/// its layers, its input shape, and any <c>Lambda</c> layer, which holds Python bytecode that Keras runs when it loads the
/// model with <c>safe_mode=False</c> (a suspicious finding).
/// </summary>
internal static class KerasConfig
{
    private const int MaxNodes = 200_000;

    public static void Describe(JsonElement root, InsightBuilder insight, string? entry)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InsightFormatException("the Keras configuration is not a JSON object");
        }

        if (root.TryGetProperty("class_name", out var className) && className.ValueKind == JsonValueKind.String)
        {
            insight.Property("class_name", className.GetString());
        }

        if (root.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object)
        {
            if (config.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                insight.Property("name", name.GetString());
            }

            if (config.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array)
            {
                insight.Property("layers", layers.GetArrayLength().ToString(CultureInfo.InvariantCulture));
                var first = layers.EnumerateArray().FirstOrDefault();
                if (first.ValueKind == JsonValueKind.Object && first.TryGetProperty("config", out var layerConfig) && layerConfig.ValueKind == JsonValueKind.Object &&
                    (layerConfig.TryGetProperty("batch_shape", out var shape) || layerConfig.TryGetProperty("batch_input_shape", out shape)) &&
                    shape.ValueKind == JsonValueKind.Array)
                {
                    var type = layerConfig.TryGetProperty("dtype", out var dtype) && dtype.ValueKind == JsonValueKind.String ? dtype.GetString() : null;
                    insight.Inputs = [new TensorSignature(layerConfig.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "input", type, Shape(shape))];
                }
            }
        }

        if (insight.Inputs is null && root.TryGetProperty("build_config", out var build) && build.ValueKind == JsonValueKind.Object &&
            build.TryGetProperty("input_shape", out var inputShape) && inputShape.ValueKind == JsonValueKind.Array)
        {
            insight.Inputs = [new TensorSignature("input", null, Shape(inputShape))];
        }

        var budget = MaxNodes;
        if (FindLambda(root, ref budget))
        {
            insight.AddFinding("keras.layers.Lambda", ScanVerdicts.Suspicious, entry);
        }
    }

    private static List<string> Shape(JsonElement shape) =>
        shape.EnumerateArray().Take(32).Select(d => d.ValueKind == JsonValueKind.Number ? d.GetRawText() : "?").ToList();

    private static bool FindLambda(JsonElement element, ref int budget)
    {
        if (--budget < 0)
        {
            throw new InsightFormatException($"the Keras configuration has more than {MaxNodes} nodes");
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (element.TryGetProperty("class_name", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() is "Lambda")
                {
                    return true;
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (FindLambda(property.Value, ref budget)) return true;
                }

                return false;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (FindLambda(item, ref budget)) return true;
                }

                return false;
            default:
                return false;
        }
    }
}
