using Berth.Cli.Tests.Support;
using Berth.Testing.Insight;

namespace Berth.Cli.Tests;

/// <summary><c>berth scan</c> as a process, offline, on model folders made by the real libraries: exit 0, 1 or 2 for safe, suspicious, dangerous.</summary>
[Trait("Database", "none")]
public sealed class ScanTests : IDisposable
{
    private readonly CliUser _user = new();
    private readonly string _folder = TempFolder.Create("berth-scan");

    public void Dispose()
    {
        _user.Dispose();
        TempFolder.Delete(_folder);
    }

    private async Task<string> FolderAsync(string name, params (string Corpus, string As)[] files)
    {
        var folder = Path.Combine(_folder, name);
        foreach (var (corpus, target) in files)
        {
            var path = Path.Combine(folder, target);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Copy(await ModelCorpus.FileAsync(corpus), path);
        }

        return folder;
    }

    [Fact]
    public async Task ASafeModelExitsZeroAndItsJsonHasTheMetadata()
    {
        var folder = await FolderAsync("safe", ("torch/state_dict.pt", "model.pt"), ("onnx/model.onnx", "export/model.onnx"), ("sklearn/pipeline.pkl", "prep.pkl"));
        await File.WriteAllTextAsync(Path.Combine(folder, "requirements.txt"), "torch==1.13\nscikit-learn\n", TestContext.Current.CancellationToken);

        var result = await _user.RunAsync("scan", folder, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json;
        Assert.Equal("safe", json.GetProperty("verdict").GetString());
        Assert.Equal("pytorch", json.GetProperty("metadata").GetProperty("framework").GetString());
        Assert.Equal(58, json.GetProperty("metadata").GetProperty("parameters").GetInt64());
        Assert.Equal(["torch==1.13", "scikit-learn"], json.GetProperty("metadata").GetProperty("requirements").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(2, json.GetProperty("scan").GetProperty("scanned").GetInt32());
        var onnx = json.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == "export/model.onnx");
        Assert.Equal("batch", onnx.GetProperty("inputs")[0].GetProperty("shape")[0].GetString());

        var text = await _user.RunAsync("scan", folder);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("framework:", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("58", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADangerousPickleExitsTwoAndNamesTheFileAndTheGlobal()
    {
        var folder = await FolderAsync("evil", ("torch/state_dict.pt", "model.pt"), ("evil/reduce.pkl", "tokenizer/extra.pkl"), ("evil/weights.bin", "weights.bin"));

        var text = await _user.RunAsync("scan", folder);
        var json = await _user.RunAsync("scan", folder, "--json");

        Assert.True(text.ExitCode == 2, text.ToString());
        Assert.Contains("tokenizer/extra.pkl", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("posix.system in archive/data.pkl", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("dangerous", text.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, json.ExitCode);
        Assert.Equal(2, json.Json.GetProperty("scan").GetProperty("dangerous").GetInt32());
    }

    [Fact]
    public async Task AnUnknownGlobalOrAnUnreadablePickleExitsOne()
    {
        var suspicious = await FolderAsync("odd", ("suspicious/unknown_global.pkl", "model.pkl"));
        var truncated = Path.Combine(_folder, "cut.pkl");
        var bytes = await File.ReadAllBytesAsync(await ModelCorpus.FileAsync("sklearn/pipeline.pkl"), TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)], TestContext.Current.CancellationToken);

        var unknown = await _user.RunAsync("scan", suspicious);
        var cut = await _user.RunAsync("scan", truncated, "--json");

        Assert.True(unknown.ExitCode == 1, unknown.ToString());
        Assert.Contains("acme.lib.Thing", unknown.Stdout, StringComparison.Ordinal);
        Assert.True(cut.ExitCode == 1, cut.ToString());
        var file = Assert.Single(cut.Json.GetProperty("files").EnumerateArray());
        Assert.Contains("truncated", file.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingPathIsAUsageError()
    {
        (await _user.RunAsync("scan", Path.Combine(_folder, "nothing-here"))).Failed(2, "does not exist");
    }
}
