using System.Globalization;
using System.Text;
using System.Text.Json;
using Berth.Contracts.Dtos;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// Small text files that describe a model: MLflow's <c>MLmodel</c> (flavors, signature), MLEM's <c>.mlem</c> (model type,
/// methods, requirements), a Hugging Face <c>config.json</c> (architectures, model type), a Keras <c>config.json</c>, and
/// <c>requirements.txt</c>. They are recognised by name and then by content; at most <see cref="MaxText"/> bytes are read.
/// </summary>
internal static class TextFormats
{
    public const int MaxText = 1024 * 1024;
    private const int MaxYamlNodes = 100_000;

    public static bool IsMlmodel(string name) => name == "MLmodel";

    public static bool IsMlem(string name) => name.EndsWith(".mlem", StringComparison.Ordinal);

    public static bool IsRequirements(string name) => name.EndsWith("requirements.txt", StringComparison.Ordinal);

    public static bool IsJson(string name) => name.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    public static void ReadRequirements(string text, InsightBuilder insight)
    {
        var requirements = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0 || line.StartsWith('-'))
            {
                continue;
            }

            if (requirements.Count >= InsightBuilder.MaxRequirements)
            {
                break;
            }

            requirements.Add(line.Length <= 200 ? line : line[..200]);
        }

        insight.Format = "requirements";
        insight.Requirements = requirements;
    }

    /// <summary>A JSON file: a Hugging Face or Keras config; false when it is neither.</summary>
    public static bool ReadJson(byte[] bytes, InsightBuilder insight)
    {
        JsonDocument document;
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return false;
        }

        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64, AllowTrailingCommas = true });
        }
        catch (JsonException)
        {
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            if (root.TryGetProperty("architectures", out _) || (root.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String))
            {
                insight.Format = "hf-config";
                insight.Framework = "transformers";
                foreach (var property in root.EnumerateObject())
                {
                    if (property.Name is "architectures" && property.Value.ValueKind == JsonValueKind.Array)
                    {
                        insight.Property("architectures", string.Join(", ", property.Value.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()).Take(20)));
                    }
                    else if (property.Name is "model_type" or "torch_dtype" or "dtype" or "transformers_version" or "hidden_size" or "num_hidden_layers"
                             or "num_attention_heads" or "vocab_size" or "max_position_embeddings" or "intermediate_size" or "num_key_value_heads"
                             or "rope_theta" or "sliding_window" && property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number)
                    {
                        insight.Property(property.Name, property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText());
                    }
                }

                if (root.TryGetProperty("quantization_config", out var quantization) && quantization.ValueKind == JsonValueKind.Object &&
                    quantization.TryGetProperty("quant_method", out var method) && method.ValueKind == JsonValueKind.String)
                {
                    insight.Quantization = method.GetString();
                }

                return true;
            }

            if (root.TryGetProperty("class_name", out var className) && className.ValueKind == JsonValueKind.String &&
                root.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object && config.TryGetProperty("layers", out _))
            {
                insight.Format = "keras-config";
                insight.Framework = "keras";
                KerasConfig.Describe(root, insight, entry: null);
                return true;
            }

            return false;
        }
    }

    public static void ReadMlmodel(string text, InsightBuilder insight)
    {
        insight.Format = "mlflow";
        var root = LoadYaml(text) as YamlMappingNode ?? throw new InsightFormatException("MLmodel is not a YAML mapping");
        foreach (var key in new[] { "mlflow_version", "model_uuid", "artifact_path", "utc_time_created", "run_id" })
        {
            insight.Property(key, Scalar(root, key));
        }

        if (Child(root, "flavors") is YamlMappingNode flavors)
        {
            var names = flavors.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value!).ToList();
            insight.Property("flavors", string.Join(", ", names));
            var main = names.FirstOrDefault(n => n != "python_function");
            insight.Framework = main switch
            {
                null => "python_function",
                "pytorch" => "pytorch",
                "sklearn" => "sklearn",
                "tensorflow" or "keras" => main,
                _ => main,
            };
            foreach (var (name, flavor) in flavors.Children)
            {
                if (name is YamlScalarNode { Value: { } flavorName } && flavor is YamlMappingNode body)
                {
                    foreach (var (k, v) in body.Children)
                    {
                        if (k is YamlScalarNode { Value: { } field } && v is YamlScalarNode { Value: { } value } &&
                            (field.EndsWith("_version", StringComparison.Ordinal) || field is "loader_module" or "serialization_format" or "pickled_model" or "model_data" or "code"))
                        {
                            insight.Property($"flavor.{flavorName}.{field}", value);
                        }
                    }
                }
            }
        }

        if (Child(root, "signature") is YamlMappingNode signature)
        {
            insight.Inputs = Columns(Scalar(signature, "inputs"));
            insight.Outputs = Columns(Scalar(signature, "outputs"));
        }
    }

    /// <summary>An MLflow signature: a JSON list of columns (<c>{"type": "double", "name": "x"}</c>) or tensors.</summary>
    private static List<TensorSignature>? Columns(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32 });
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var result = new List<TensorSignature>();
            var index = 0;
            foreach (var column in document.RootElement.EnumerateArray().Take(InsightBuilder.MaxSignature))
            {
                var name = column.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : $"{index}";
                var type = column.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                List<string>? shape = null;
                if (type == "tensor" && column.TryGetProperty("tensor-spec", out var spec) && spec.ValueKind == JsonValueKind.Object)
                {
                    type = spec.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                    if (spec.TryGetProperty("shape", out var s) && s.ValueKind == JsonValueKind.Array)
                    {
                        shape = s.EnumerateArray().Take(32).Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out var v) && v >= 0 ? v.ToString(CultureInfo.InvariantCulture) : "?").ToList();
                    }
                }

                result.Add(new TensorSignature(name, type, shape));
                index++;
            }

            return result;
        }
        catch (JsonException e)
        {
            throw new InsightFormatException("the MLmodel signature is not valid JSON: " + e.Message, e);
        }
    }

    public static void ReadMlem(string text, InsightBuilder insight)
    {
        insight.Format = "mlem";
        var root = LoadYaml(text) as YamlMappingNode ?? throw new InsightFormatException("the .mlem file is not a YAML mapping");
        insight.Property("object_type", Scalar(root, "object_type"));
        if (Child(root, "model_type") is YamlMappingNode modelType)
        {
            insight.Framework = Scalar(modelType, "type");
            if (Child(modelType, "methods") is YamlMappingNode methods)
            {
                insight.Property("methods", string.Join(", ", methods.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value).Take(20)));
                var predict = Child(methods, "predict") as YamlMappingNode ?? methods.Children.Values.OfType<YamlMappingNode>().FirstOrDefault();
                if (predict is not null)
                {
                    if (Child(predict, "args") is YamlSequenceNode args)
                    {
                        insight.Inputs = args.Children.OfType<YamlMappingNode>().Take(InsightBuilder.MaxSignature)
                            .Select(a => DataType(Scalar(a, "name") ?? "input", Child(a, "type_"))).ToList();
                    }

                    if (Child(predict, "returns") is { } returns)
                    {
                        insight.Outputs = [DataType("output", returns)];
                    }
                }
            }
        }

        if (Child(root, "requirements") is YamlSequenceNode requirements)
        {
            insight.Requirements = requirements.Children.OfType<YamlMappingNode>().Take(InsightBuilder.MaxRequirements)
                .Select(r => (Scalar(r, "package_name") ?? Scalar(r, "module")) is { } module
                    ? Scalar(r, "version") is { } version ? $"{module}=={version}" : module
                    : null)
                .OfType<string>().ToList();
        }
    }

    private static TensorSignature DataType(string name, YamlNode? type)
    {
        if (type is not YamlMappingNode map)
        {
            return new TensorSignature(name);
        }

        var kind = Scalar(map, "type");
        var dtype = Scalar(map, "dtype");
        var shape = Child(map, "shape") is YamlSequenceNode dims
            ? dims.Children.Take(32).Select(d => d is YamlScalarNode { Value: { } v } && long.TryParse(v, CultureInfo.InvariantCulture, out var n) && n >= 0 ? v : "?").ToList()
            : null;
        if (kind == "dataframe" && Child(map, "columns") is YamlSequenceNode columns)
        {
            dtype = "dataframe[" + string.Join(", ", columns.Children.OfType<YamlScalarNode>().Select(c => c.Value).Take(20)) + "]";
        }

        return new TensorSignature(name, dtype ?? kind, shape);
    }

    private static YamlNode LoadYaml(string text)
    {
        // Flow collections ([[[[…) nest without indentation: refuse deep ones before a recursive parser sees them.
        var depth = 0;
        foreach (var c in text)
        {
            depth += c is '[' or '{' ? 1 : c is ']' or '}' ? -1 : 0;
            if (depth > 64)
            {
                throw new InsightFormatException("the YAML document nests deeper than 64");
            }
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException or ArgumentException)
        {
            // YamlDotNet reports some malformed documents (a duplicate key, an alias to nothing) with these.
            throw new InsightFormatException("the YAML is malformed: " + e.Message, e);
        }

        if (stream.Documents.Count == 0)
        {
            throw new InsightFormatException("the YAML file is empty");
        }

        var budget = MaxYamlNodes;
        Count(stream.Documents[0].RootNode, ref budget, 0);
        return stream.Documents[0].RootNode;
    }

    /// <summary>Refuses documents that are too large or deep (aliases can make a small file expand).</summary>
    private static void Count(YamlNode node, ref int budget, int depth)
    {
        if (--budget < 0 || depth > 64)
        {
            throw new InsightFormatException($"the YAML document has more than {MaxYamlNodes} nodes or nests deeper than 64");
        }

        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    Count(k, ref budget, depth + 1);
                    Count(v, ref budget, depth + 1);
                }

                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence.Children)
                {
                    Count(item, ref budget, depth + 1);
                }

                break;
        }
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? Scalar(YamlMappingNode map, string key) => Child(map, key) is YamlScalarNode { Value: { } v } ? v : null;

    public static string Decode(byte[] bytes) => new UTF8Encoding(false, false).GetString(bytes);
}
