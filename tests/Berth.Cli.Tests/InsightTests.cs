using Berth.Cli.Tests.Support;
using Berth.Testing.Insight;

namespace Berth.Cli.Tests;

/// <summary>
/// What the server read inside pushed versions, through the CLI as a process: <c>berth show</c> and <c>berth insight
/// show</c> of a real PyTorch checkpoint, the scan policy, a refused push under <c>block</c>, and <c>berth insight recompute</c>.
/// </summary>
public sealed class InsightTests(ServerFixture fixture) : IDisposable
{
    private readonly CliUser _user = new();
    private readonly string _folder = TempFolder.Create("berth-insight-cli");

    private ServerProcess Server => fixture.Server;

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

    /// <summary>Reads <c>berth insight show --json</c> until the server has read the version (30 s at most).</summary>
    private async Task<System.Text.Json.JsonElement> ReadAsync(string reference)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var json = (await _user.RunAsync("insight", "show", reference, "--json")).Succeeded().Json;
            if (json.GetProperty("state").GetString() != "pending")
            {
                return json;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{reference} was not read within 30 s.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task ShowPrintsTheFrameworkParametersAndDtypesOfAPushedCheckpoint()
    {
        await _user.LoginAsync(Server);
        var ns = "cli-insight-" + Guid.NewGuid().ToString("N")[..8];
        var model = await FolderAsync("torch", ("torch/conv_bn.bin", "pytorch_model.bin"));
        (await _user.RunAsync("push", model, $"{ns}/resnet")).Succeeded();

        var insight = await ReadAsync($"{ns}/resnet:1");
        var show = (await _user.RunAsync("show", $"{ns}/resnet:1")).Succeeded().Stdout;
        var files = (await _user.RunAsync("insight", "show", $"{ns}/resnet:1")).Succeeded().Stdout;

        Assert.Equal("done", insight.GetProperty("state").GetString());
        Assert.Contains("insight:", show, StringComparison.Ordinal);
        Assert.Matches(@"framework:\s+pytorch", show);
        Assert.Matches(@"parameters:\s+129", show);
        Assert.Matches(@"precision:\s+float32", show);
        Assert.Contains("pytorch_model.bin", files, StringComparison.Ordinal);
        Assert.Equal(128, insight.GetProperty("files")[0].GetProperty("dtypes").GetProperty("float32").GetInt64());
    }

    [Fact]
    public async Task UnderBlockAPushWithADangerousPickleFailsNamingTheFileAndTheGlobal()
    {
        await _user.LoginAsync(Server);
        var ns = "cli-block-" + Guid.NewGuid().ToString("N")[..8];
        var evil = await FolderAsync("evil", ("torch/state_dict.pt", "model.pt"), ("evil/memo_stack_global.pkl", "extras/tokenizer.pkl"));
        (await _user.RunAsync("push", await FolderAsync("first", ("sklearn/pipeline.pkl", "model.pkl")), $"{ns}/guarded")).Succeeded();

        (await _user.RunAsync("insight", "policy", ns, "block")).Succeeded();
        var shown = (await _user.RunAsync("insight", "policy", ns, "--json")).Succeeded().Json;
        var refused = await _user.RunAsync("push", evil, $"{ns}/guarded");
        var wrong = await _user.RunAsync("insight", "policy", ns, "strict");

        Assert.Equal("block", shown.GetProperty("policy").GetString());
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("(unsafe_model)", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("extras/tokenizer.pkl", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("posix.system", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, wrong.ExitCode);
    }

    [Fact]
    public async Task AnAdministratorRecomputesANamespace()
    {
        await _user.LoginAsync(Server);
        var ns = "cli-recompute-" + Guid.NewGuid().ToString("N")[..8];
        (await _user.RunAsync("push", await FolderAsync("onnx", ("onnx/model.onnx", "model.onnx")), $"{ns}/exported")).Succeeded();
        await ReadAsync($"{ns}/exported:1");

        var queued = (await _user.RunAsync("insight", "recompute", ns, "--json")).Succeeded().Json;
        var again = await ReadAsync($"{ns}/exported:1");
        var found = (await _user.RunAsync("search", $"namespace = '{ns}' and metadata.framework = \"onnx\"", "--json")).Succeeded().Json;

        Assert.Equal(1, queued.GetProperty("queued").GetInt32());
        Assert.Equal("onnx", again.GetProperty("metadata").GetProperty("framework").GetString());
        Assert.Equal($"{ns}/exported:1", Assert.Single(found.EnumerateArray()).GetProperty("reference").GetString());
    }
}
