using Berth.Contracts.Dtos;

namespace Berth.Core.Tests.Insight;

/// <summary>Files made by the real libraries (tests/Shared/Insight/make_corpus.py): the metadata Berth reads from each, and the scan's verdict.</summary>
public sealed class CorpusTests
{
    public sealed class PyTorch
    {
        [Fact]
        public async Task AStateDictIsASafePyTorchArchiveWithItsParameterCountAndDtypes()
        {
            var insight = await Inspect.CorpusAsync("torch/state_dict.pt");

            Assert.Equal("pytorch", insight.Format);
            Assert.Equal("pytorch", insight.Framework);
            Assert.Equal(58, insight.Parameters);
            Assert.Equal(new Dictionary<string, long> { ["float32"] = 58 }, insight.Dtypes);
            Assert.Equal("4", insight.Properties!["tensors"]);
            Inspect.Safe(insight);
        }

        [Fact]
        public async Task AWholePickledModuleNamesItsLayerClassesAndIsSafe()
        {
            var insight = await Inspect.CorpusAsync("torch/full_model.pt");

            Assert.Equal("pytorch", insight.Format);
            Assert.Equal(58, insight.Parameters);
            Assert.Contains("torch.nn.modules.linear.Linear", insight.Properties!["classes"], StringComparison.Ordinal);
            Assert.Contains("torch.nn.modules.container.Sequential", insight.Properties!["classes"], StringComparison.Ordinal);
            Inspect.Safe(insight);
        }

        [Fact]
        public async Task ALegacyCheckpointIsReadAsItsFivePicklesAndItsStoragesAreNotScanned()
        {
            var insight = await Inspect.CorpusAsync("torch/legacy.pt");

            Assert.Equal("pytorch-legacy", insight.Format);
            Assert.Equal(58, insight.Parameters);
            Assert.Equal(5, insight.Scan!.Streams);
            Inspect.Safe(insight);
        }

        [Fact]
        public async Task HalfPrecisionAndBuffersCountByDtype()
        {
            var half = await Inspect.CorpusAsync("torch/half.pth");
            var convBn = await Inspect.CorpusAsync("torch/conv_bn.bin");

            Assert.Equal(new Dictionary<string, long> { ["float16"] = 272 }, half.Dtypes);
            Assert.Equal(new Dictionary<string, long> { ["float32"] = 128, ["int64"] = 1 }, convBn.Dtypes);
            Assert.Equal(129, convBn.Parameters);
            Inspect.Safe(convBn);
        }

        [Fact]
        public async Task TorchScriptIsRecognisedByItsCodeAndItsPicklesAreSafe()
        {
            var insight = await Inspect.CorpusAsync("torch/scripted.pt");

            Assert.Equal("torchscript", insight.Format);
            Assert.Equal("pytorch", insight.Framework);
            Inspect.Safe(insight);
        }
    }

    public sealed class Onnx
    {
        [Fact]
        public async Task AnExportedGraphHasItsSignatureWithTheSymbolicBatchDimensionAndItsParameters()
        {
            var insight = await Inspect.CorpusAsync("onnx/model.onnx");

            Assert.Null(insight.Error);
            Assert.Equal("onnx", insight.Format);
            Assert.Equal("onnx", insight.Framework);
            Assert.Equal(58, insight.Parameters);
            Assert.Equal([new TensorSignature("features", "float32", ["batch", "4"])], insight.Inputs!, new SignatureComparer());
            Assert.Equal([new TensorSignature("logits", "float32", ["batch", "2"])], insight.Outputs!, new SignatureComparer());
            Assert.Equal("pytorch", insight.Properties!["producer"]);
            Assert.Contains("ai.onnx:13", insight.Properties["opset"], StringComparison.Ordinal);
            Assert.Null(insight.Scan);
        }

        [Fact]
        public async Task CustomDomainsMetadataAndElementTypesAreRead()
        {
            var insight = await Inspect.CorpusAsync("onnx/custom.onnx");

            Assert.Equal("com.acme", insight.Properties!["custom_domains"]);
            Assert.Equal("acme", insight.Properties["metadata.author"]);
            Assert.Equal("berth-tests", insight.Properties["producer"]);
            Assert.Equal(new Dictionary<string, long> { ["int64"] = 10 }, insight.Dtypes);
            Assert.Equal([new TensorSignature("x", "float16", ["n", "3"])], insight.Inputs!, new SignatureComparer());
        }

        [Fact]
        public async Task AModelWithoutTheOnnxExtensionIsRecognisedByItsContent()
        {
            var insight = await Inspect.CorpusAsync("onnx/unnamed_model");

            Assert.Equal("onnx", insight.Format);
            Assert.Equal(10, insight.Parameters);
        }
    }

    public sealed class ScikitLearn
    {
        [Theory]
        [InlineData("sklearn/forest.joblib")]
        [InlineData("sklearn/forest_compressed.joblib")]
        [InlineData("sklearn/forest.joblib.gz")]
        public async Task AJoblibForestIsSafeAndNamesItsEstimator(string file)
        {
            var insight = await Inspect.CorpusAsync(file);

            Assert.Equal("joblib", insight.Format);
            Assert.Equal("sklearn", insight.Framework);
            Assert.Contains("sklearn.ensemble._forest.RandomForestClassifier", insight.Properties!["classes"], StringComparison.Ordinal);
            Inspect.Safe(insight);
        }

        [Theory]
        [InlineData("sklearn/pipeline.pkl")]
        [InlineData("sklearn/pipeline_p0.pkl")]
        [InlineData("sklearn/pipeline_p2.pkl")]
        [InlineData("sklearn/pipeline_p5.pkl")]
        public async Task APickledPipelineIsSafeInEveryProtocol(string file)
        {
            var insight = await Inspect.CorpusAsync(file);

            Assert.Equal("pickle", insight.Format);
            Assert.Equal("sklearn", insight.Framework);
            Assert.Contains("sklearn.pipeline.Pipeline", insight.Properties!["classes"], StringComparison.Ordinal);
            Inspect.Safe(insight);
        }

        [Fact]
        public async Task AJoblibFileWithAnObjectArrayScansItsNestedPickle()
        {
            var insight = await Inspect.CorpusAsync("sklearn/mixed.joblib");

            Assert.Equal("joblib", insight.Format);
            Assert.Equal(2, insight.Scan!.Streams);
            Inspect.Safe(insight);
        }
    }

    public sealed class Numpy
    {
        [Fact]
        public async Task ArraysAndArchivesCountTheirElements()
        {
            var npy = await Inspect.CorpusAsync("numpy/weights.npy");
            var npz = await Inspect.CorpusAsync("numpy/arrays.npz");
            var compressed = await Inspect.CorpusAsync("numpy/compressed.npz");

            Assert.Equal(("npy", 200L), (npy.Format, npy.Parameters!.Value));
            Assert.Equal("(10, 20)", npy.Properties!["shape"]);
            Assert.Equal(("npz", 13L), (npz.Format, npz.Parameters!.Value));
            Assert.Equal(new Dictionary<string, long> { ["float16"] = 7, ["int64"] = 6 }, npz.Dtypes);
            Assert.Equal(2500, compressed.Parameters);
            Assert.Null(npy.Scan);
        }

        [Fact]
        public async Task AnObjectArrayIsScannedAndSafeWhenItHoldsPlainObjects()
        {
            var insight = await Inspect.CorpusAsync("numpy/objects.npy");

            Assert.Equal("npy", insight.Format);
            Inspect.Safe(insight);
        }
    }

    public sealed class Hdf5
    {
        [Fact]
        public async Task ALegacyKerasFileShowsItsConfigurationAndAPlainOneOnlyItsFormat()
        {
            var keras = await Inspect.CorpusAsync("keras/legacy.h5");
            var plain = await Inspect.CorpusAsync("data/plain.h5");

            Assert.Equal(("hdf5", "keras"), (keras.Format, keras.Framework));
            Assert.Equal("Sequential", keras.Properties!["class_name"]);
            Assert.Equal([new TensorSignature("in", "float32", ["?", "4"])], keras.Inputs!, new SignatureComparer());
            Assert.Equal(("hdf5", (string?)null), (plain.Format, plain.Framework));
        }
    }

    public sealed class Malicious
    {
        [Fact]
        public async Task ReduceToOsSystemIsDangerousAndNamesTheGlobal() =>
            Inspect.Dangerous(await Inspect.CorpusAsync("evil/reduce.pkl"), "posix.system");

        [Fact]
        public async Task AProtocol0TextGlobalIsDangerous() =>
            Inspect.Dangerous(await Inspect.CorpusAsync("evil/protocol0.pkl"), "os.system");

        [Fact]
        public async Task AProtocol4StackGlobalWithNamesFromTheMemoIsDangerous() =>
            Inspect.Dangerous(await Inspect.CorpusAsync("evil/memo_stack_global.pkl"), "posix.system");

        [Fact]
        public async Task APyTorchCheckpointUnderAnInnocentNameIsDangerousInItsDataPickle()
        {
            var insight = await Inspect.CorpusAsync("evil/weights.bin");

            Assert.Equal("pytorch", insight.Format);
            Inspect.Dangerous(insight, "posix.system", "archive/data.pkl");
        }

        [Fact]
        public async Task APickleHiddenInAnotherEntryOfACheckpointIsFound() =>
            Inspect.Dangerous(await Inspect.CorpusAsync("evil/extra_entry.pt"), "posix.system", "state_dict/extra/config");

        [Theory]
        [InlineData("evil/model.joblib")]
        [InlineData("evil/model_compressed.joblib")]
        public async Task AJoblibPayloadAfterAnArraysBytesIsFound(string file)
        {
            var insight = await Inspect.CorpusAsync(file);

            Assert.Equal("joblib", insight.Format);
            Inspect.Dangerous(insight, "posix.system");
        }

        [Fact]
        public async Task AnObjectNpyWithAPayloadIsDangerous() =>
            Inspect.Dangerous(await Inspect.CorpusAsync("evil/objects.npy"), "posix.system");

        [Fact]
        public async Task AGlobalOutsideTheAllowListIsSuspiciousNotDangerous()
        {
            var insight = await Inspect.CorpusAsync("suspicious/unknown_global.pkl");

            Assert.Equal(ScanVerdicts.Suspicious, insight.Scan!.Verdict);
            Assert.Contains(insight.Scan.Globals, g => g is { Global: "acme.lib.Thing", Verdict: ScanVerdicts.Suspicious });
        }
    }

    internal sealed class SignatureComparer : IEqualityComparer<TensorSignature>
    {
        public bool Equals(TensorSignature? x, TensorSignature? y) =>
            x is not null && y is not null && x.Name == y.Name && x.Type == y.Type && (x.Shape ?? []).SequenceEqual(y.Shape ?? []);

        public int GetHashCode(TensorSignature obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
