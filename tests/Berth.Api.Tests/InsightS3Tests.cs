using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Testing.Insight;
using Berth.Testing.S3;

namespace Berth.Api.Tests;

/// <summary>
/// Model insight on a server whose blobs live in a real S3 engine (radosgw, BERTH_TEST_S3_*): the worker reads the
/// headers of a large sparse safetensors file and a GGUF file with ranged GETs, scans a PyTorch checkpoint, and a
/// commit under block is refused after the same reads.
/// </summary>
public sealed class InsightS3Tests : IAsyncLifetime
{
    private readonly string _prefix = TestS3.NewPrefix("insight");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await TestS3.EnsureBucketAsync(Ct);

    public async ValueTask DisposeAsync() => await TestS3.DeletePrefixAsync(_prefix, CancellationToken.None);

    [Fact]
    public async Task VersionsStoredInS3AreReadAndScanned()
    {
        await using var server = await TestServer.StartAsync("--blobs", TestS3.Setting(_prefix, "&part-size-mb=5"), "--Insight:PollInterval=00:00:00.200");
        using var folder = new ModelFolder();
        // 4096 x 2048 float16 = 16 MiB of data: read from the header alone.
        SpecFiles.Safetensors(Path.Combine(folder.Root, "model.safetensors"), [new("w", "F16", [4096, 2048], 2), new("b", "F16", [2048], 2)],
            new Dictionary<string, string> { ["format"] = "pt" });
        Directory.CreateDirectory(Path.Combine(folder.Root, "training"));
        File.Copy(await ModelCorpus.FileAsync("torch/state_dict.pt"), Path.Combine(folder.Root, "training", "checkpoint.pt"));
        var version = (await server.Client.PushAsync(folder.Root, "acme", "on-s3", new PushOptions(), cancellationToken: Ct)).Version;

        var insight = await Eventually.WaitForAsync(() => server.Client.GetVersionInsightAsync(ModelReference.Parse(version.Reference), Ct),
            i => i.State != InsightStates.Pending, "The insight worker");

        Assert.Equal(InsightStates.Done, insight.State);
        Assert.Equal("safetensors", insight.Metadata!.Format);
        Assert.Equal(4096L * 2048 + 2048, insight.Metadata.Parameters);
        Assert.Equal("float16", insight.Metadata.Precision);
        Assert.Equal(new ScanSummary(ScanVerdicts.Safe, 0, 0, 1), insight.Scan);

        await server.Client.CreateNamespaceAsync(new CreateNamespaceRequest("guarded"), Ct);
        await server.Client.SetScanPolicyAsync("guarded", ScanPolicies.Block, Ct);
        File.Copy(await ModelCorpus.FileAsync("evil/weights.bin"), Path.Combine(folder.Root, "extra.bin"));
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => server.Client.PushAsync(folder.Root, "guarded", "on-s3", new PushOptions(), cancellationToken: Ct));
        Assert.Equal("unsafe_model", refused.Code);
        Assert.Contains("'extra.bin'", refused.Detail, StringComparison.Ordinal);
    }
}
