using System.Diagnostics;
using Berth.Core.Insight;
using Berth.Core.Insight.IO;
using Berth.Testing.Insight;

namespace Berth.Core.Tests.Insight;

/// <summary>Large files cost only the reads of their headers (sparse files: a 1 GiB model on no disk).</summary>
public sealed class RangedReadTests : IDisposable
{
    private readonly string _folder = TempFolder.Create("berth-ranged");

    public void Dispose() => TempFolder.Delete(_folder);

    [Fact]
    public async Task AOneGibSafetensorsFileIsReadThroughItsHeaderOnly()
    {
        var path = Path.Combine(_folder, "big.safetensors");
        var tensors = Enumerable.Range(0, 256).Select(i => new SpecFiles.Tensor($"layers.{i}.weight", "F16", [1024, 2048], 2)).ToList();
        SpecFiles.Safetensors(path, tensors, sparseData: true);
        Assert.True(new FileInfo(path).Length >= 1L << 30);

        await using var reader = FileRangeReader.Open(path);
        var watch = Stopwatch.StartNew();
        var insight = await ModelInspector.InspectAsync("big.safetensors", reader, null, TestContext.Current.CancellationToken);
        watch.Stop();

        Assert.Null(insight.Error);
        Assert.Equal(256L * 1024 * 2048, insight.Parameters);
        Assert.True(reader.BytesRead < 64 * 1024, $"read {reader.BytesRead} bytes");
        Assert.True(watch.ElapsedMilliseconds < 2000, $"took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task AGgufFileOfSeveralGibIsReadThroughItsHeaderOnly()
    {
        var path = Path.Combine(_folder, "big.gguf");
        SpecFormatTests.WriteGguf(path, vocabulary: 128_000);
        Assert.True(new FileInfo(path).Length >= 1L << 28);

        await using var reader = FileRangeReader.Open(path);
        var insight = await ModelInspector.InspectAsync("big.gguf", reader, null, TestContext.Current.CancellationToken);

        Assert.Null(insight.Error);
        Assert.Equal("Q4_K_M", insight.Quantization);
        Assert.True(reader.BytesRead < 256 * 1024, $"read {reader.BytesRead} bytes");
    }

    [Fact]
    public async Task ATruncatedLargeFileFailsWithoutBeingRead()
    {
        var path = Path.Combine(_folder, "cut.safetensors");
        SpecFiles.Safetensors(path, [new("w", "F32", [1024, 1024, 64], 4)], sparseData: true);
        using (var file = File.OpenWrite(path))
        {
            file.SetLength(file.Length / 2);
        }

        await using var reader = FileRangeReader.Open(path);
        var insight = await ModelInspector.InspectAsync("cut.safetensors", reader, null, TestContext.Current.CancellationToken);

        Assert.Contains("truncated", insight.Error, StringComparison.Ordinal);
        Assert.True(reader.BytesRead < 64 * 1024);
    }
}
