using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Berth.Testing.Insight;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// Model insight through a real server (SQLite, or PostgreSQL with BERTH_TEST_POSTGRES): versions pushed with files made
/// by the real libraries are read off the request path; their metadata and scan are returned by the API and the SDK,
/// searchable and usable in gates; scan policies off, warn (event) and block (refused commit); failures with reasons;
/// recomputing versions read before.
/// </summary>
public sealed class InsightTests(InsightTests.Fixture fixture) : IClassFixture<InsightTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        private TestServer? _server;

        public TestServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

        public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync("--Insight:PollInterval=00:00:00.200");

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }

    private TestServer Server => fixture.Server;
    private BerthClient Client => Server.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewNamespace() => "insight-" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<ModelFolder> FolderAsync(params (string Corpus, string As)[] files)
    {
        var folder = new ModelFolder();
        foreach (var (corpus, target) in files)
        {
            var path = Path.Combine(folder.Root, target);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Copy(await ModelCorpus.FileAsync(corpus), path);
        }

        return folder;
    }

    private async Task<VersionInfo> PushAsync(string ns, string model, params (string Corpus, string As)[] files)
    {
        using var folder = await FolderAsync(files);
        return (await Client.PushAsync(folder.Root, ns, model, new PushOptions { AllowUnchanged = true }, cancellationToken: Ct)).Version;
    }

    private Task<VersionInsight> ReadAsync(VersionInfo version) =>
        Eventually.WaitForAsync(() => Client.GetVersionInsightAsync(ModelReference.Parse(version.Reference), Ct), i => i.State != InsightStates.Pending, "The insight worker");

    [Fact]
    public async Task APushedPyTorchCheckpointShowsItsFrameworkParametersAndDtypes()
    {
        var ns = NewNamespace();
        var version = await PushAsync(ns, "classifier", ("torch/state_dict.pt", "model.pt"), ("onnx/model.onnx", "export/model.onnx"));
        var insight = await ReadAsync(version);
        var shown = await Client.GetVersionAsync(ModelReference.Parse(version.Reference), cancellationToken: Ct);

        Assert.Equal(InsightStates.Done, insight.State);
        Assert.Equal(new InsightMetadata("pytorch", "pytorch", 58, "float32"), insight.Metadata! with { Inputs = null, Outputs = null, Requirements = null });
        Assert.Equal(new ScanSummary(ScanVerdicts.Safe, 0, 0, 1), insight.Scan);
        var file = Assert.Single(insight.Files!, f => f.Path == "model.pt");
        Assert.Equal(new Dictionary<string, long> { ["float32"] = 58 }, file.Dtypes);
        var onnx = Assert.Single(insight.Files!, f => f.Path == "export/model.onnx");
        Assert.Equal(["batch", "4"], onnx.Inputs![0].Shape);
        Assert.Equal(insight.Metadata, shown.Insight!.Metadata);
        Assert.Null(shown.Insight.Files);
    }

    [Fact]
    public async Task UnderWarnADangerousPickleIsFlaggedWithItsGlobalAndAnEvent()
    {
        var ns = NewNamespace();
        var version = await PushAsync(ns, "sneaky", ("torch/state_dict.pt", "model.pt"), ("evil/reduce.pkl", "tokenizer/extra.pkl"));

        var insight = await ReadAsync(version);

        Assert.Equal(VersionStates.Ready, version.State);
        Assert.Equal(new ScanSummary(ScanVerdicts.Dangerous, 1, 0, 2), insight.Scan);
        var bad = Assert.Single(insight.Files!, f => f.Path == "tokenizer/extra.pkl");
        Assert.Contains(bad.Scan!.Globals, g => g is { Global: "posix.system", Verdict: ScanVerdicts.Dangerous });
        var events = await Client.ListEventsAsync(ns: ns, types: [EventTypes.VersionFlagged], cancellationToken: Ct);
        var flagged = Assert.Single(events.Items);
        Assert.Equal(version.Number, flagged.Version);
        Assert.Contains("posix.system", flagged.Data!.Value.GetRawText(), StringComparison.Ordinal);
        Assert.Contains("tokenizer/extra.pkl", flagged.Data!.Value.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnderBlockACommitWithADangerousFileIsRefusedNamingFileAndGlobal()
    {
        var ns = NewNamespace();
        await Client.CreateNamespaceAsync(new CreateNamespaceRequest(ns), Ct);
        Assert.Equal(ScanPolicies.Warn, (await Client.GetScanPolicyAsync(ns, Ct)).Policy);
        await Client.SetScanPolicyAsync(ns, ScanPolicies.Block, Ct);

        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => PushAsync(ns, "guarded", ("torch/state_dict.pt", "model.pt"), ("evil/weights.bin", "weights.bin")));
        var versions = await Client.ListVersionsAsync(ns, "guarded", allStates: true, Ct).ToListAsync(Ct);
        var safe = await PushAsync(ns, "guarded", ("torch/state_dict.pt", "model.pt"));
        var insight = await ReadAsync(safe);

        Assert.Equal("unsafe_model", refused.Code);
        Assert.Equal(422, (int)refused.Status);
        Assert.Contains("weights.bin", refused.Detail, StringComparison.Ordinal);
        Assert.Contains("posix.system (in archive/data.pkl)", refused.Detail, StringComparison.Ordinal);
        Assert.Contains("posix.system", refused.Extensions["files"].GetRawText(), StringComparison.Ordinal);
        Assert.Equal(VersionStates.Failed, Assert.Single(versions).State);
        Assert.Equal(VersionStates.Ready, safe.State);
        Assert.Equal(ScanVerdicts.Safe, insight.Scan!.Verdict);
        Assert.Equal(ScanPolicies.Block, (await Client.GetScanPolicyAsync(ns, Ct)).Policy);
    }

    /// <summary>Every way of hiding a call to os.system in a pickle: refused under block, naming the file and the global.</summary>
    [Theory]
    [InlineData("evil/reduce.pkl", "model.pkl", "posix.system")]
    [InlineData("evil/protocol0.pkl", "preprocess/scaler.pkl", "os.system")]
    [InlineData("evil/memo_stack_global.pkl", "tokenizer/vocab.pkl", "posix.system")]
    [InlineData("evil/weights.bin", "pytorch_model.bin", "posix.system")]
    [InlineData("evil/extra_entry.pt", "model.pt", "posix.system")]
    [InlineData("evil/model.joblib", "model.joblib", "posix.system")]
    [InlineData("evil/model_compressed.joblib", "pipeline.joblib", "posix.system")]
    [InlineData("evil/objects.npy", "embeddings.npy", "posix.system")]
    public async Task UnderBlockEveryHiddenCallIsRefusedAndUnderWarnFlagged(string corpus, string target, string global)
    {
        var blocked = NewNamespace();
        var warned = NewNamespace();
        await Client.CreateNamespaceAsync(new CreateNamespaceRequest(blocked), Ct);
        await Client.SetScanPolicyAsync(blocked, ScanPolicies.Block, Ct);

        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => PushAsync(blocked, "model", ("sklearn/pipeline.pkl", "safe.pkl"), (corpus, target)));
        var versions = await Client.ListVersionsAsync(blocked, "model", allStates: true, Ct).ToListAsync(Ct);
        var flagged = await ReadAsync(await PushAsync(warned, "model", ("sklearn/pipeline.pkl", "safe.pkl"), (corpus, target)));

        Assert.Equal("unsafe_model", refused.Code);
        Assert.Contains($"'{target}'", refused.Detail, StringComparison.Ordinal);
        Assert.Contains(global, refused.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("safe.pkl", refused.Extensions["files"].GetRawText(), StringComparison.Ordinal);
        Assert.Equal(VersionStates.Failed, Assert.Single(versions).State);
        Assert.Equal(new ScanSummary(ScanVerdicts.Dangerous, 1, 0, 2), flagged.Scan);
        var bad = Assert.Single(flagged.Files!, f => f.Scan?.Verdict == ScanVerdicts.Dangerous);
        Assert.Equal(target, bad.Path);
        Assert.Contains(bad.Scan!.Globals, g => g.Global == global && g.Verdict == ScanVerdicts.Dangerous);
    }

    /// <summary>Corrupt files of every kind: the reading fails with a reason naming the file; the server goes on.</summary>
    [Theory]
    [InlineData("onnx/model.onnx", "model.onnx")]
    [InlineData("torch/state_dict.pt", "model.pt")]
    [InlineData("sklearn/pipeline.pkl", "model.pkl")]
    [InlineData("numpy/weights.npy", "weights.npy")]
    public async Task ATruncatedFileFailsTheReadingWithAReason(string corpus, string target)
    {
        var ns = NewNamespace();
        using var folder = new ModelFolder();
        var bytes = await File.ReadAllBytesAsync(await ModelCorpus.FileAsync(corpus), Ct);
        await File.WriteAllBytesAsync(Path.Combine(folder.Root, target), bytes[..(bytes.Length * 2 / 3)], Ct);
        var version = (await Client.PushAsync(folder.Root, ns, "cut", new PushOptions(), cancellationToken: Ct)).Version;

        var insight = await ReadAsync(version);

        Assert.Equal(InsightStates.Failed, insight.State);
        Assert.StartsWith(target, insight.Reason, StringComparison.Ordinal);
        Assert.NotNull(Assert.Single(insight.Files!).Error);
    }

    [Fact]
    public async Task UnderOffNothingIsScannedButTheMetadataIsRead()
    {
        var ns = NewNamespace();
        await Client.CreateNamespaceAsync(new CreateNamespaceRequest(ns), Ct);
        await Client.SetScanPolicyAsync(ns, ScanPolicies.Off, Ct);

        var version = await PushAsync(ns, "unscanned", ("evil/weights.bin", "weights.bin"));
        var insight = await ReadAsync(version);

        Assert.Equal(InsightStates.Done, insight.State);
        Assert.Null(insight.Scan);
        Assert.All(insight.Files!, f => Assert.Null(f.Scan));
        Assert.Equal("pytorch", insight.Metadata!.Framework);
        var events = await Client.ListEventsAsync(ns: ns, types: [EventTypes.VersionFlagged], cancellationToken: Ct);
        Assert.Empty(events.Items);
    }

    [Fact]
    public async Task TheFilterLanguageFindsVersionsByMetadataAndScan()
    {
        var ns = NewNamespace();
        var onnx = await PushAsync(ns, "exported", ("onnx/model.onnx", "model.onnx"));
        var torch = await PushAsync(ns, "trained", ("torch/conv_bn.bin", "pytorch_model.bin"));
        var evil = await PushAsync(ns, "tampered", ("evil/model.joblib", "model.joblib"));
        foreach (var v in new[] { onnx, torch, evil })
        {
            await ReadAsync(v);
        }

        async Task<List<string>> Find(string filter) =>
            await Client.SearchAsync($"namespace = '{ns}' and ({filter})", "name", Ct).Select(v => v.Model).ToListAsync(Ct);

        Assert.Equal(["exported"], await Find("metadata.framework = \"onnx\""));
        Assert.Equal(["trained"], await Find("metadata.parameters > 100 and metadata.framework = 'pytorch'"));
        Assert.Equal(["exported", "trained"], await Find("metadata.parameters >= 58 and metadata.state = 'done'"));
        Assert.Equal(["tampered"], await Find("scan.dangerous > 0"));
        Assert.Equal(["exported", "trained"], await Find("scan.verdict = 'safe'"));
        Assert.Equal(["exported"], await Find("scan.scanned = 0"));
        Assert.Empty(await Find("scan.verdict is null"));
        Assert.Equal(["tampered", "trained"], await Find("metadata.format in ('joblib', 'pytorch')"));
        var error = await Assert.ThrowsAsync<BerthProblemException>(() => Find("metadata.size > 1"));
        Assert.Equal("invalid_filter", error.Code);
    }

    [Fact]
    public async Task AStageGateCanDemandAScannedSafeModelOfAFramework()
    {
        var ns = NewNamespace();
        var good = await PushAsync(ns, "gated", ("torch/state_dict.pt", "model.pt"));
        var bad = await PushAsync(ns, "gated", ("torch/state_dict.pt", "model.pt"), ("evil/protocol0.pkl", "extra.pkl"));
        await ReadAsync(good);
        await ReadAsync(bad);
        await Client.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(Gate: "scan.dangerous = 0 and metadata.framework = 'pytorch'"), Ct);

        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => Client.ChangeStageAsync(ModelReference.Parse(bad.Reference), "production", cancellationToken: Ct));
        var moved = await Client.ChangeStageAsync(ModelReference.Parse(good.Reference), "production", cancellationToken: Ct);

        Assert.Equal("gate_failed", refused.Code);
        Assert.Contains("scan.dangerous = 0", refused.Extensions["failures"].GetRawText(), StringComparison.Ordinal);
        Assert.Contains("\"actual\":\"1\"", refused.Extensions["failures"].GetRawText(), StringComparison.Ordinal);
        Assert.Equal("production", moved.Version!.Stage);
    }

    [Fact]
    public async Task TruncatedFilesFailTheReadingWithAReasonAndTheRestIsStillRead()
    {
        var ns = NewNamespace();
        using var folder = await FolderAsync(("torch/state_dict.pt", "model.pt"));
        SpecFiles.Safetensors(Path.Combine(folder.Root, "model.safetensors"), [new("w", "F32", [64, 64], 4)]);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(folder.Root, "model.safetensors"), Ct);
        await File.WriteAllBytesAsync(Path.Combine(folder.Root, "model.safetensors"), bytes[..(bytes.Length - 100)], Ct);
        var version = (await Client.PushAsync(folder.Root, ns, "broken", new PushOptions(), cancellationToken: Ct)).Version;

        var insight = await ReadAsync(version);

        Assert.Equal(InsightStates.Failed, insight.State);
        Assert.Contains("model.safetensors", insight.Reason, StringComparison.Ordinal);
        Assert.Contains("truncated", insight.Reason, StringComparison.Ordinal);
        Assert.Equal("pytorch", Assert.Single(insight.Files!, f => f.Path == "model.pt").Format);
    }

    [Fact]
    public async Task AnAdministratorRecomputesVersionsReadBeforeOrNever()
    {
        var ns = NewNamespace();
        var version = await PushAsync(ns, "legacy", ("sklearn/pipeline.pkl", "model.pkl"));
        await ReadAsync(version);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            // As a version committed before the server read models has no rows.
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            var id = await db.Versions.Where(v => v.Model.Namespace.Name == ns).Select(v => v.Id).SingleAsync(Ct);
            await db.VersionInsights.Where(i => i.VersionId == id).ExecuteDeleteAsync(Ct);
            await db.VersionFileInsights.Where(i => i.VersionId == id).ExecuteDeleteAsync(Ct);
        }

        var before = await Client.GetVersionInsightAsync(ModelReference.Parse(version.Reference), Ct);
        var queued = await Client.RecomputeInsightAsync(new RecomputeInsightRequest(ns), Ct);
        var after = await ReadAsync(version);

        Assert.Equal(InsightStates.Pending, before.State);
        Assert.Contains("not read yet", before.Reason, StringComparison.Ordinal);
        Assert.Equal(1, queued.Queued);
        Assert.Equal(InsightStates.Done, after.State);
        Assert.Equal("sklearn", after.Metadata!.Framework);
        var missing = await Assert.ThrowsAsync<BerthProblemException>(() => Client.RecomputeInsightAsync(new RecomputeInsightRequest("no-such-namespace"), Ct));
        Assert.Equal("namespace_not_found", missing.Code);
    }

    [Fact]
    public async Task AnUnknownScanPolicyIsRefused()
    {
        var ns = NewNamespace();
        await Client.CreateNamespaceAsync(new CreateNamespaceRequest(ns), Ct);

        var error = await Assert.ThrowsAsync<BerthProblemException>(() => Client.SetScanPolicyAsync(ns, "strict", Ct));

        Assert.Equal("invalid_request", error.Code);
        Assert.Contains("off, warn or block", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VersionsCommittedPastAFullQueueAreReadByPolling()
    {
        await using var server = await TestServer.StartAsync("--Insight:QueueCapacity=1", "--Insight:PollInterval=00:00:00.200");
        var ns = NewNamespace();
        var pushed = new List<VersionInfo>();
        for (var i = 0; i < 4; i++)
        {
            using var folder = new ModelFolder();
            await File.WriteAllBytesAsync(Path.Combine(folder.Root, "weights.npy"), await File.ReadAllBytesAsync(await ModelCorpus.FileAsync("numpy/weights.npy"), Ct), Ct);
            await File.WriteAllTextAsync(Path.Combine(folder.Root, "requirements.txt"), $"numpy=={i}\n", Ct);
            pushed.Add((await server.Client.PushAsync(folder.Root, ns, "many", new PushOptions(), cancellationToken: Ct)).Version);
        }

        foreach (var v in pushed)
        {
            var insight = await Eventually.WaitForAsync(() => server.Client.GetVersionInsightAsync(ModelReference.Parse(v.Reference), Ct), i => i.State != InsightStates.Pending, "The insight worker");
            Assert.Equal(InsightStates.Done, insight.State);
            Assert.Equal(200, insight.Metadata!.Parameters);
        }
    }
}
