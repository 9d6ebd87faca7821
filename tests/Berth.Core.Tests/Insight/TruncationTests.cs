using Berth.Testing.Insight;

namespace Berth.Core.Tests.Insight;

/// <summary>Truncated files of every format the inspector parses fail with a reason; none throws or hangs.</summary>
public sealed class TruncationTests : IDisposable
{
    private readonly string _folder = TempFolder.Create("berth-cut");

    public void Dispose() => TempFolder.Delete(_folder);

    public static TheoryData<string> CorpusFiles() =>
    [
        "torch/state_dict.pt", "torch/full_model.pt", "torch/legacy.pt", "torch/scripted.pt", "onnx/model.onnx", "onnx/custom.onnx",
        "sklearn/forest.joblib", "sklearn/forest_compressed.joblib", "sklearn/forest.joblib.gz", "sklearn/pipeline.pkl",
        "sklearn/pipeline_p0.pkl", "sklearn/mixed.joblib", "numpy/weights.npy", "numpy/arrays.npz", "numpy/compressed.npz",
        "numpy/objects.npy", "evil/weights.bin", "evil/model.joblib",
    ];

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public async Task ACorpusFileCutShortFailsWithAReason(string relative)
    {
        var bytes = await File.ReadAllBytesAsync(await ModelCorpus.FileAsync(relative), TestContext.Current.CancellationToken);
        foreach (var fraction in new[] { 0.3, 0.6, 0.95 })
        {
            var cut = bytes[..(int)(bytes.Length * fraction)];
            var insight = await Inspect.BytesAsync(relative, cut);
            Assert.False(insight.Error is null, $"{relative} cut to {cut.Length} of {bytes.Length} bytes read as {insight.Format} without an error");
        }
    }

    [Fact]
    public async Task SpecFilesCutShortFailWithAReason()
    {
        SpecFiles.Safetensors(Path.Combine(_folder, "m.safetensors"), [new("w", "F32", [64, 64], 4), new("b", "F16", [64], 2)]);
        SpecFormatTests.WriteGguf(Path.Combine(_folder, "m.gguf"), vocabulary: 256);
        SpecFiles.Keras(Path.Combine(_folder, "m.keras"));
        await File.WriteAllBytesAsync(Path.Combine(_folder, "saved_model.pb"), SpecFiles.SavedModelPb(), TestContext.Current.CancellationToken);
        foreach (var name in new[] { "m.safetensors", "m.gguf", "m.keras", "saved_model.pb" })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(_folder, name), TestContext.Current.CancellationToken);
            foreach (var fraction in new[] { 0.1, 0.5, 0.9 })
            {
                var insight = await Inspect.BytesAsync(name, bytes[..(int)(bytes.Length * fraction)]);
                Assert.False(insight.Error is null, $"{name} cut to {fraction:P0} read as {insight.Format} without an error");
            }
        }
    }
}
