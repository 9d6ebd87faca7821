using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Gc;
using Berth.Core.Maintenance;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Api.Tests;

/// <summary>
/// Per-namespace quotas on logical bytes and versions: checked when a version is declared, before any byte is uploaded;
/// usage kept exact through pushes, deletions, abandoned pushes, deleted models and garbage collection.
/// </summary>
public sealed class QuotaTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _server = await TestServer.StartAsync(services => services.AddSingleton<TimeProvider>(_clock), "--Registry:PurgeDelay", "00:00:00");

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task APushOverTheByteQuotaIsRefusedAtDeclarationSayingWhatItNeeds()
    {
        await _server.CreateNamespaceAsync("bytes");
        await _server.Client.SetQuotaAsync("bytes", new SetQuotaRequest(MaxBytes: 10_000), Ct);
        await PushAsync("bytes", "m", 6000);

        using var over = await DeclareAsync("bytes", "m", 5000, seed: 2);
        var problem = await over.AssertProblemAsync(HttpStatusCode.Conflict, "quota_exceeded");
        Assert.Equal("bytes", problem.GetProperty("quota").GetString());
        Assert.Equal(10_000, problem.GetProperty("limit").GetInt64());
        Assert.Equal(6000, problem.GetProperty("used").GetInt64());
        Assert.Equal(5000, problem.GetProperty("needed").GetInt64());

        // Nothing was declared: no pending version, usage unchanged; a push that fits still works.
        var versions = await _server.Client.ListVersionsAsync("bytes", "m", allStates: true, Ct).ToListAsync(Ct);
        Assert.Single(versions);
        Assert.Equal(6000, (await _server.Client.GetQuotaAsync("bytes", Ct)).UsedBytes);
        await PushAsync("bytes", "m", 4000, seed: 3);
        var quota = await _server.Client.GetQuotaAsync("bytes", Ct);
        Assert.Equal(new QuotaInfo("bytes", 10_000, null, 10_000, 2), quota);
    }

    [Fact]
    public async Task TheSdkPushStopsBeforeUploadingAnything()
    {
        await _server.CreateNamespaceAsync("early");
        await _server.Client.SetQuotaAsync("early", new SetQuotaRequest(MaxBytes: 1000), Ct);
        using var folder = new ModelFolder(("big.bin", 50_000));
        var failure = await Assert.ThrowsAsync<BerthProblemException>(() =>
            _server.Client.PushAsync(folder.Root, "early", "m", new PushOptions(), cancellationToken: Ct));
        Assert.Equal("quota_exceeded", failure.Code);
        await using var scope = _server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        Assert.Equal(0, await db.UploadSessions.CountAsync(Ct));
        Assert.Equal(0, await db.Versions.CountAsync(v => v.Model.Namespace.Name == "early", Ct));
    }

    [Fact]
    public async Task TheVersionQuotaCountsPendingVersionsAndDeletingFreesItAtOnce()
    {
        await _server.CreateNamespaceAsync("counted");
        await _server.Client.SetQuotaAsync("counted", new SetQuotaRequest(MaxVersions: 2), Ct);
        await PushAsync("counted", "m", 10);
        using (var pending = await DeclareAsync("counted", "m", 10, seed: 5))
        {
            Assert.Equal(HttpStatusCode.Created, pending.StatusCode);
        }

        using (var third = await DeclareAsync("counted", "m", 10, seed: 6))
        {
            var problem = await third.AssertProblemAsync(HttpStatusCode.Conflict, "quota_exceeded");
            Assert.Equal("versions", problem.GetProperty("quota").GetString());
        }

        await _server.Client.DeleteVersionAsync(Versions.Ref("counted", "m", 1), cancellationToken: Ct);
        using var fits = await DeclareAsync("counted", "m", 10, seed: 7);
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    [Fact]
    public async Task ConcurrentPushesNeverTogetherExceedTheQuota()
    {
        await _server.CreateNamespaceAsync("race");
        await _server.Client.SetQuotaAsync("race", new SetQuotaRequest(MaxBytes: 5 * 1000, MaxVersions: 100), Ct);
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            using var response = await DeclareAsync("race", $"m{i % 3}", 1000, seed: 100 + i);
            return response.StatusCode;
        }));

        Assert.Equal(5, answers.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(7, answers.Count(s => s == HttpStatusCode.Conflict));
        await AssertUsageIsExactAsync();
        Assert.Equal(5000, (await _server.Client.GetQuotaAsync("race", Ct)).UsedBytes);
    }

    [Fact]
    public async Task UsageStaysExactThroughDeletionsAbandonedPushesDeletedModelsAndGarbageCollection()
    {
        await _server.CreateNamespaceAsync("life");
        await PushAsync("life", "a", 100);
        await PushAsync("life", "a", 200, seed: 2);
        await PushAsync("life", "b", 400, seed: 3);
        using (var pending = await DeclareAsync("life", "a", 800, seed: 4))
        {
            Assert.Equal(HttpStatusCode.Created, pending.StatusCode);
        }

        Assert.Equal(new QuotaInfo("life", null, null, 1500, 4), await _server.Client.GetQuotaAsync("life", Ct));

        // Deleting, concurrently with pushes elsewhere in the namespace.
        await Task.WhenAll(
            _server.Client.DeleteVersionAsync(Versions.Ref("life", "a", 1), cancellationToken: Ct),
            PushAsync("life", "c", 1600, seed: 5),
            PushAsync("life", "c", 3200, seed: 6));
        await AssertUsageIsExactAsync();
        Assert.Equal(new QuotaInfo("life", null, null, 6200, 5), await _server.Client.GetQuotaAsync("life", Ct));

        // The abandoned push fails after a day and frees what it held.
        _clock.Advance(TimeSpan.FromHours(25));
        await _server.Services.GetRequiredService<MaintenanceService>().RunOnceAsync(Ct);
        Assert.Equal(new QuotaInfo("life", null, null, 5400, 4), await _server.Client.GetQuotaAsync("life", Ct));

        // A deleted model frees its versions; purging them later changes nothing more.
        await _server.Client.DeleteModelAsync("life", "c", Ct);
        Assert.Equal(new QuotaInfo("life", null, null, 600, 2), await _server.Client.GetQuotaAsync("life", Ct));
        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var report = await scope.ServiceProvider.GetRequiredService<GarbageCollector>().RunAsync(dryRun: false, Ct);
            Assert.True(report.PurgedVersions >= 4);
        }

        Assert.Equal(new QuotaInfo("life", null, null, 600, 2), await _server.Client.GetQuotaAsync("life", Ct));
        await AssertUsageIsExactAsync();

        var listed = (await _server.Client.ListNamespacesAsync(Ct).ToListAsync(Ct)).Single(n => n.Name == "life");
        Assert.Equal((600L, 2L, (long?)null, (long?)null), (listed.UsedBytes, listed.UsedVersions, listed.MaxBytes, listed.MaxVersions));
    }

    [Fact]
    public async Task NewNamespacesGetTheServersDefaultQuota()
    {
        await using var server = await TestServer.StartAsync("--Registry:DefaultMaxBytes", "1000", "--Registry:DefaultMaxVersions", "5");
        using var folder = new ModelFolder(("w.bin", 10));
        await server.Client.PushAsync(folder.Root, "fresh", "m", new PushOptions(), cancellationToken: Ct);
        var space = await server.Client.GetNamespaceAsync("fresh", Ct);
        Assert.Equal((10L, 1L, (long?)1000, (long?)5), (space.UsedBytes, space.UsedVersions, space.MaxBytes, space.MaxVersions));

        // Only server administrators set quotas; negative ones are refused.
        using var user = await server.AddUserAsync("owner", "fresh", Roles.Admin);
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => user.Client.SetQuotaAsync("fresh", new SetQuotaRequest(), Ct));
        Assert.Equal("forbidden", refused.Code);
        using var negative = await server.Http.SendJsonAsync(HttpMethod.Put, "/api/v1/namespaces/fresh/quota", """{"maxBytes":-1}""", Ct);
        await negative.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(new QuotaInfo("fresh", 1000, 5, 10, 1), await user.Client.GetQuotaAsync("fresh", Ct));
    }

    private async Task PushAsync(string ns, string model, int size, int seed = 1)
    {
        using var response = await DeclareAsync(ns, model, size, seed);
        var declared = await response.ReadAsync(BerthJsonContext.Default.CreateVersionResponse);
        var bytes = ModelFolder.Bytes(size, seed);
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using (var upload = await _server.Http.PostAsync($"/api/v1/models/{ns}/{model}/uploads?digest={ModelFolder.Sha256(bytes)}&size={size}", content, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }

        using var commit = await _server.Http.PostAsync($"/api/v1/models/{ns}/{model}/versions/{declared.Version.Number}/commit", null, Ct);
        Assert.Equal(HttpStatusCode.OK, commit.StatusCode);
    }

    private Task<HttpResponseMessage> DeclareAsync(string ns, string model, int size, int seed) =>
        _server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/{ns}/{model}/versions",
            Support.Http.CreateVersionJson(ModelFolder.Sha256(ModelFolder.Bytes(size, seed)), size, $"f{seed}.bin"), Ct);

    /// <summary>The counters of every namespace that is not deleted equal what they count, computed from the versions.</summary>
    private async Task AssertUsageIsExactAsync()
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var spaces = await db.Namespaces.AsNoTracking().Where(n => n.DeletedAt == null).ToListAsync(Ct);
        foreach (var space in spaces)
        {
            var live = db.Versions.Where(v => v.Model.NamespaceId == space.Id && v.Model.DeletedAt == null && (v.State == VersionState.Pending || v.State == VersionState.Ready));
            var bytes = await live.SumAsync(v => (long?)v.TotalSize, Ct) ?? 0;
            var count = await live.LongCountAsync(Ct);
            Assert.True((bytes, count) == (space.UsedBytes, space.VersionCount), $"{space.Name}: counters {space.UsedBytes} bytes, {space.VersionCount} versions; versions hold {bytes} bytes, {count} versions");
        }
    }
}
