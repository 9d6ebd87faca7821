using System.Text;
using Berth.Contracts.Dtos;
using Berth.Core.Insight;
using Berth.Core.Insight.IO;
using Berth.Testing.Insight;

namespace Berth.Core.Tests.Insight;

/// <summary>Formats written by the tests from their specifications: safetensors, GGUF, SavedModel, Keras, MLflow, MLEM, HF config, requirements.</summary>
public sealed class SpecFormatTests : IDisposable
{
    private readonly string _folder = TempFolder.Create("berth-spec");

    public void Dispose() => TempFolder.Delete(_folder);

    private string File(string name) => Path.Combine(_folder, name);

    [Fact]
    public async Task SafetensorsGivesTensorsDtypesParametersAndItsMetadata()
    {
        SpecFiles.Safetensors(File("model.safetensors"),
        [
            new("embed.weight", "BF16", [100, 16], 2),
            new("head.weight", "F32", [16, 4], 4),
            new("head.bias", "F32", [4], 4),
        ], new Dictionary<string, string> { ["format"] = "pt", ["source"] = "berth" });

        var insight = await Inspect.FileAsync(File("model.safetensors"));

        Assert.Null(insight.Error);
        Assert.Equal(("safetensors", "pytorch"), (insight.Format, insight.Framework));
        Assert.Equal(1668, insight.Parameters);
        Assert.Equal(new Dictionary<string, long> { ["bfloat16"] = 1600, ["float32"] = 68 }, insight.Dtypes);
        Assert.Equal("berth", insight.Properties!["metadata.source"]);
        Assert.Equal("3", insight.Properties["tensors"]);
        Assert.Null(insight.Scan);
    }

    [Fact]
    public async Task SafetensorsWhoseOffsetsDisagreeWithTheirShapeFail()
    {
        var json = """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}"""u8.ToArray();
        var bytes = BitConverter.GetBytes((ulong)json.Length).Concat(json).Concat(new byte[16]).ToArray();

        var insight = await Inspect.BytesAsync("w.safetensors", bytes);

        Assert.Equal("safetensors", insight.Format);
        Assert.Contains("holds 8 bytes but its dtype and shape need 16", insight.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GgufGivesArchitectureContextTokenizerQuantizationAndParameters()
    {
        WriteGguf(File("model.gguf"));

        var insight = await Inspect.FileAsync(File("model.gguf"));

        Assert.Null(insight.Error);
        Assert.Equal(("gguf", "gguf"), (insight.Format, insight.Framework));
        Assert.Equal("llama", insight.Properties!["general.architecture"]);
        Assert.Equal("4096", insight.Properties["llama.context_length"]);
        Assert.Equal("gpt2", insight.Properties["tokenizer.ggml.model"]);
        Assert.Equal("Q4_K_M", insight.Quantization);
        Assert.Equal((4096L * 32000) + (4096L * 4096) + 4096, insight.Parameters);
        Assert.Equal(new Dictionary<string, long> { ["f32"] = 4096, ["q4_k"] = 4096L * 32000, ["q6_k"] = 4096L * 4096 }, insight.Dtypes);
    }

    internal static void WriteGguf(string path, long vocabulary = 32000) => SpecFiles.Gguf(path,
    [
        ("general.architecture", "llama"),
        ("general.name", "tiny"),
        ("general.file_type", 15u),
        ("llama.context_length", 4096u),
        ("llama.embedding_length", 4096u),
        ("tokenizer.ggml.model", "gpt2"),
        ("tokenizer.ggml.tokens", Enumerable.Range(0, 1000).Select(i => $"tok{i}").ToArray()),
    ],
    [
        new("token_embd.weight", [4096, (ulong)vocabulary], 12, 4096L * vocabulary / 256 * 144),
        new("blk.0.attn_q.weight", [4096, 4096], 14, 4096L * 4096 / 256 * 210),
        new("output_norm.weight", [4096], 0, 4096 * 4),
    ]);

    [Fact]
    public async Task ASavedModelGivesItsServingSignature()
    {
        await System.IO.File.WriteAllBytesAsync(File("saved_model.pb"), SpecFiles.SavedModelPb(), TestContext.Current.CancellationToken);

        var insight = await Inspect.FileAsync(File("saved_model.pb"));

        Assert.Null(insight.Error);
        Assert.Equal(("savedmodel", "tensorflow"), (insight.Format, insight.Framework));
        Assert.Equal([new TensorSignature("image", "float32", ["?", "28", "28"])], insight.Inputs!, new CorpusTests.SignatureComparer());
        Assert.Equal([new TensorSignature("probabilities", "float32", ["?", "10"])], insight.Outputs!, new CorpusTests.SignatureComparer());
        Assert.Equal("serve", insight.Properties!["tags"]);
        Assert.Equal("2.15.0", insight.Properties["tensorflow_version"]);
        Assert.Contains("serving_default (tensorflow/serving/predict)", insight.Properties["signatures"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKerasArchiveGivesItsConfigurationAndALambdaLayerIsSuspicious()
    {
        SpecFiles.Keras(File("plain.keras"));
        SpecFiles.Keras(File("lambda.keras"), lambda: true);

        var plain = await Inspect.FileAsync(File("plain.keras"));
        var lambda = await Inspect.FileAsync(File("lambda.keras"));

        Assert.Equal(("keras", "keras"), (plain.Format, plain.Framework));
        Assert.Equal("3.3.3", plain.Properties!["keras_version"]);
        Assert.Equal("2", plain.Properties["layers"]);
        Assert.Equal([new TensorSignature("features", "float32", ["?", "8"])], plain.Inputs!, new CorpusTests.SignatureComparer());
        Assert.Null(plain.Scan);
        Assert.Equal(ScanVerdicts.Suspicious, lambda.Scan!.Verdict);
        Assert.Contains(lambda.Scan.Globals, g => g.Global == "keras.layers.Lambda");
    }

    [Fact]
    public async Task AnMlmodelGivesFlavorsAndItsSignature()
    {
        const string text = """
            artifact_path: model
            flavors:
              python_function:
                env:
                  conda: conda.yaml
                  virtualenv: python_env.yaml
                loader_module: mlflow.sklearn
                model_path: model.pkl
                predict_fn: predict
                python_version: 3.11.2
              sklearn:
                code: null
                pickled_model: model.pkl
                serialization_format: cloudpickle
                sklearn_version: 1.2.1
            mlflow_version: 2.9.2
            model_uuid: 3f1b
            signature:
              inputs: '[{"type": "double", "name": "sepal length", "required": true}, {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
              outputs: '[{"type": "long", "required": true}]'
            utc_time_created: '2026-01-01 00:00:00.000000'
            """;
        var insight = await Inspect.BytesAsync("model/MLmodel", Encoding.UTF8.GetBytes(text));

        Assert.Null(insight.Error);
        Assert.Equal(("mlflow", "sklearn"), (insight.Format, insight.Framework));
        Assert.Equal("python_function, sklearn", insight.Properties!["flavors"]);
        Assert.Equal("1.2.1", insight.Properties["flavor.sklearn.sklearn_version"]);
        Assert.Equal([new TensorSignature("sepal length", "double"), new TensorSignature("1", "float32", ["?", "4"])], insight.Inputs!, new CorpusTests.SignatureComparer());
        Assert.Equal([new TensorSignature("0", "long")], insight.Outputs!, new CorpusTests.SignatureComparer());
    }

    [Fact]
    public async Task AnMlemFileGivesItsModelTypeMethodsAndRequirements()
    {
        const string text = """
            artifacts:
              data:
                hash: 5e0f
                size: 1024
                uri: model
            model_type:
              methods:
                predict:
                  args:
                  - name: X
                    type_:
                      dtype: float64
                      shape:
                      - null
                      - 4
                      type: ndarray
                  name: predict
                  returns:
                    dtype: int64
                    shape:
                    - null
                    type: ndarray
                predict_proba:
                  name: predict_proba
              type: sklearn
            object_type: model
            requirements:
            - module: sklearn
              package_name: scikit-learn
              version: 1.2.1
            - module: numpy
              version: 1.24.2
            """;
        var insight = await Inspect.BytesAsync("clf.mlem", Encoding.UTF8.GetBytes(text));

        Assert.Null(insight.Error);
        Assert.Equal(("mlem", "sklearn"), (insight.Format, insight.Framework));
        Assert.Equal("predict, predict_proba", insight.Properties!["methods"]);
        Assert.Equal([new TensorSignature("X", "float64", ["?", "4"])], insight.Inputs!, new CorpusTests.SignatureComparer());
        Assert.Equal(["scikit-learn==1.2.1", "numpy==1.24.2"], insight.Requirements!);
    }

    [Fact]
    public async Task AHuggingFaceConfigAndRequirementsAreRead()
    {
        var config = await Inspect.BytesAsync("config.json", """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16", "hidden_size": 4096,
             "quantization_config": {"quant_method": "awq", "bits": 4}, "transformers_version": "4.40.0"}
            """u8.ToArray());
        var requirements = await Inspect.BytesAsync("requirements.txt", "# pinned\ntorch==2.3.0\n\n-r base.txt\nnumpy>=1.24  # arrays\n"u8.ToArray());
        var unrelated = await Inspect.BytesAsync("labels.json", """{"0": "cat", "1": "dog"}"""u8.ToArray());

        Assert.Equal(("hf-config", "transformers"), (config.Format, config.Framework));
        Assert.Equal("LlamaForCausalLM", config.Properties!["architectures"]);
        Assert.Equal("awq", config.Quantization);
        Assert.Equal(["torch==2.3.0", "numpy>=1.24"], requirements.Requirements!);
        Assert.Null(unrelated.Format);
    }

    [Fact]
    public async Task TheSummaryTakesTheLargestWeightsFormatAndSumsItsShards()
    {
        var files = new List<FileInsight>
        {
            new("model-00001-of-00002.safetensors", 1000, "safetensors", "pytorch", 600, new Dictionary<string, long> { ["bfloat16"] = 600 }),
            new("model-00002-of-00002.safetensors", 900, "safetensors", "pytorch", 500, new Dictionary<string, long> { ["bfloat16"] = 400, ["float32"] = 100 }),
            new("config.json", 10, "hf-config", "transformers", Quantization: null),
            new("model.onnx", 100, "onnx", "onnx", 1100, Inputs: [new TensorSignature("x", "float32", ["?", "3"])]),
            new("requirements.txt", 10, "requirements", Requirements: ["torch==2.3.0"]),
            new("bad.pkl", 10, "pickle", Scan: new FileScan(ScanVerdicts.Dangerous, [new("os.system", ScanVerdicts.Dangerous)], 1)),
            new("odd.pkl", 10, "pickle", Scan: new FileScan(ScanVerdicts.Suspicious, [], 0, "truncated"), Error: "truncated"),
        };

        var metadata = InsightSummarizer.Metadata(files);
        var scan = InsightSummarizer.Scan(files);

        Assert.Equal(("pytorch", "safetensors", 1100L, "bfloat16"), (metadata.Framework, metadata.Format, metadata.Parameters!.Value, metadata.Precision));
        Assert.Equal(["torch==2.3.0"], metadata.Requirements!);
        Assert.Equal(new ScanSummary(ScanVerdicts.Dangerous, 1, 1, 2), scan);
        Assert.Equal("odd.pkl: truncated", InsightSummarizer.FailureReason(files));
    }
}
