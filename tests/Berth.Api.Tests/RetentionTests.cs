using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Api.Tests;

/// <summary>
/// Retention policies: the dry run lists exactly what garbage collection then deletes, and why each old version is
/// deleted or kept; versions live or deploying in an environment, in kept stages, aliased versions, the newest N and
/// young versions are never deleted; the bytes freed count shared blobs once and only when nothing keeps them; a
/// model's own policy replaces its namespace's.
/// </summary>
public sealed class RetentionTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestServer _server = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _server = await TestServer.StartAsync(services => services.AddSingleton<TimeProvider>(_clock));

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private BerthClient Client => _server.Client;

    [Fact]
    public async Task TheDryRunListsWhatGcDeletesAndKeptStagesAliasesAndTheNewestSurvive()
    {
        for (var i = 0; i < 6; i++)
        {
            await _server.PushSmallAsync("acme", "fraud", i == 0 ? ["champion"] : null);
        }

        await Client.ChangeStageAsync(Versions.Ref("acme", "fraud", 2), "production", cancellationToken: Ct);
        await Client.ChangeStageAsync(Versions.Ref("acme", "fraud", 3), "staging", cancellationToken: Ct);
        await Client.ChangeStageAsync(Versions.Ref("acme", "fraud", 4), "development", cancellationToken: Ct);
        var policy = await Client.SetRetentionAsync("acme", null, new SetRetentionRequest(TimeSpan.FromDays(90), KeepLast: 2, KeepStages: ["production", "staging"], KeepAliased: true), Ct);
        Assert.Equal(["production", "staging"], policy.KeepStages);
        var read = await Client.GetRetentionAsync("acme", cancellationToken: Ct);
        Assert.Equal((2, true, TimeSpan.FromDays(90)), (read.KeepLast!.Value, read.KeepAliased, read.OlderThan));
        Assert.Equal(["production", "staging"], read.KeepStages);

        // Nothing is old enough yet.
        Assert.Empty((await Client.PreviewRetentionAsync("acme", cancellationToken: Ct)).Versions);

        _clock.Advance(TimeSpan.FromDays(91));
        await _server.PushSmallAsync("acme", "fraud");

        // 7 and 6 are the newest two, 5 ... 1: 4 (development, no alias) goes; 3 staging and 2 production stay,
        // 1 is aliased ('champion'); 5 is old, unstaged and unaliased.
        var preview = await Client.PreviewRetentionAsync("acme", cancellationToken: Ct);
        Assert.Equal([5, 4], preview.Versions.Select(v => v.Version));
        Assert.All(preview.Versions, v => Assert.Equal("acme/fraud", v.Model));
        Assert.Equal([5, 4], (await Client.PreviewRetentionAsync("acme", "fraud", Ct)).Versions.Select(v => v.Version));

        var dry = await Client.RunGcAsync(dryRun: true, Ct);
        Assert.Equal(2, dry.RetentionDeleted);
        Assert.Equal(["acme/fraud:5", "acme/fraud:4"], dry.RetentionVersions);
        Assert.Equal(7, await CountReadyAsync());

        var run = await Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(2, run.RetentionDeleted);
        Assert.Equal(["acme/fraud:5", "acme/fraud:4"], run.RetentionVersions);
        var left = await Client.ListVersionsAsync("acme", "fraud", cancellationToken: Ct).Select(v => v.Number).ToListAsync(Ct);
        Assert.Equal([7, 6, 3, 2, 1], left);
        Assert.Equal(1, (await Client.GetAliasAsync("acme", "fraud", "champion", Ct)).Version);
        Assert.Empty((await Client.PreviewRetentionAsync("acme", cancellationToken: Ct)).Versions);
    }

    [Fact]
    public async Task AVersionLiveOrDeployingAnywhereOrAliasedIsKeptAndTheDryRunSaysWhyForEachCandidate()
    {
        for (var i = 0; i < 5; i++)
        {
            await _server.PushSmallAsync("acme", "fraud", i == 2 ? ["champion"] : null);
        }

        await Client.RecordDeploymentAsync(Versions.Ref("acme", "fraud", 1), new RecordDeploymentRequest("prod-eu", DeploymentStatuses.Live), Ct);
        await Client.RecordDeploymentAsync(Versions.Ref("acme", "fraud", 2), new RecordDeploymentRequest("canary", DeploymentStatuses.Deploying), Ct);
        // Retired is no longer running anywhere: it protects nothing.
        await Client.RecordDeploymentAsync(Versions.Ref("acme", "fraud", 4), new RecordDeploymentRequest("old-env", DeploymentStatuses.Live), Ct);
        await Client.RecordDeploymentAsync(Versions.Ref("acme", "fraud", 4), new RecordDeploymentRequest("old-env", DeploymentStatuses.Retired), Ct);
        // Aliased versions are kept even by a policy that does not ask for it.
        await Client.SetRetentionAsync("acme", null, new SetRetentionRequest(TimeSpan.FromDays(1), KeepLast: 1), Ct);
        _clock.Advance(TimeSpan.FromDays(2));

        var preview = await Client.PreviewRetentionAsync("acme", cancellationToken: Ct);
        var deleted = Assert.Single(preview.Versions);
        Assert.Equal(4, deleted.Version);
        Assert.Equal(["older than 1d and not among the newest 1; nothing keeps it"], deleted.Reasons);
        Assert.Equal([3, 2, 1], preview.Kept.Select(v => v.Version));
        Assert.Equal(["alias champion"], preview.Kept[0].Reasons);
        Assert.Equal(["deploying to canary"], preview.Kept[1].Reasons);
        Assert.Equal(["live in prod-eu"], preview.Kept[2].Reasons);

        var run = await Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(["acme/fraud:4"], run.RetentionVersions);
        Assert.Equal([5, 3, 2, 1], await Client.ListVersionsAsync("acme", "fraud", cancellationToken: Ct).Select(v => v.Number).ToListAsync(Ct));
        var live = await Client.ListDeploymentsAsync("acme", "fraud", "prod-eu", cancellationToken: Ct).FirstAsync(Ct);
        Assert.Equal((1, DeploymentStatuses.Live), (live.Version, live.Status));
    }

    [Fact]
    public async Task TheBytesFreedCountEachBlobOnceAndOnlyWhenNoRemainingVersionUsesIt()
    {
        byte[] big = ModelFolder.Bytes(100_000, 1), pair = ModelFolder.Bytes(30, 2);
        await PushAsync(("big.bin", big), ("own.bin", ModelFolder.Bytes(8, 3)), ("pair.bin", pair));
        await PushAsync(("big.bin", big), ("own.bin", ModelFolder.Bytes(8, 4)), ("pair.bin", pair));
        await PushAsync(("big.bin", big));
        await Client.SetRetentionAsync("acme", "shared", new SetRetentionRequest(TimeSpan.FromDays(1), KeepLast: 1), Ct);
        _clock.Advance(TimeSpan.FromDays(2));

        // 1 and 2 go; 3 keeps big.bin. Freed: the two own.bin (8 B each) and pair.bin once (30 B), not 200 KB.
        var preview = await Client.PreviewRetentionAsync("acme", "shared", Ct);
        Assert.Equal([2, 1], preview.Versions.Select(v => v.Version));
        Assert.Equal(100_038, preview.Versions[0].Bytes);
        Assert.Equal(46, preview.FreedBytes);
        Assert.Equal(46, (await Client.RunGcAsync(dryRun: true, Ct)).RetentionFreedBytes);
        Assert.Equal(46, (await Client.RunGcAsync(cancellationToken: Ct)).RetentionFreedBytes);
    }

    [Fact]
    public async Task AModelsOwnPolicyReplacesTheNamespacesAndRemovingItRestoresIt()
    {
        for (var i = 0; i < 3; i++)
        {
            await _server.PushSmallAsync("acme", "own");
            await _server.PushSmallAsync("acme", "inherits");
        }

        await Client.SetRetentionAsync("acme", null, new SetRetentionRequest(TimeSpan.FromDays(1), KeepLast: 1), Ct);
        await Client.SetRetentionAsync("acme", "own", new SetRetentionRequest(TimeSpan.FromDays(30), KeepLast: 1), Ct);
        _clock.Advance(TimeSpan.FromDays(2));

        Assert.Equal(["acme/inherits:2", "acme/inherits:1"], Names(await Client.PreviewRetentionAsync("acme", cancellationToken: Ct)));
        var notSet = await Assert.ThrowsAsync<BerthProblemException>(() => Client.GetRetentionAsync("acme", "inherits", Ct));
        Assert.Equal("retention_not_set", notSet.Code);

        await Client.RemoveRetentionAsync("acme", "own", Ct);
        Assert.Equal(["acme/inherits:2", "acme/inherits:1", "acme/own:2", "acme/own:1"], Names(await Client.PreviewRetentionAsync("acme", cancellationToken: Ct)));
    }

    [Fact]
    public async Task APolicyNamingAnUnknownStageIsRefused()
    {
        await _server.PushSmallAsync("acme", "fraud");
        using var response = await _server.Http.SendJsonAsync(HttpMethod.Put, "/api/v1/namespaces/acme/retention", """{"olderThan":"90.00:00:00","keepStages":["prod"]}""", Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_stage");
    }

    private async Task PushAsync(params (string Path, byte[] Bytes)[] files)
    {
        using var folder = new ModelFolder();
        foreach (var (path, bytes) in files)
        {
            await File.WriteAllBytesAsync(Path.Combine(folder.Root, path), bytes, Ct);
        }

        await Client.PushAsync(folder.Root, "acme", "shared", new Client.Transfers.PushOptions(), cancellationToken: Ct);
    }

    private static List<string> Names(RetentionPreview preview) => preview.Versions.Select(v => $"{v.Model}:{v.Version}").ToList();

    private async Task<int> CountReadyAsync() => await Client.ListVersionsAsync("acme", "fraud", cancellationToken: Ct).CountAsync(Ct);
}
