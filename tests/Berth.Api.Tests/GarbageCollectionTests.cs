using System.Diagnostics;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Gc;
using Berth.Core.Leases;
using Berth.Core.Maintenance;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Api.Tests;

/// <summary>
/// Garbage collection: what it deletes (unreferenced blobs past the grace period, versions past the purge
/// delay, orphan bytes) and what it must never delete (anything a ready, pending or recently deleted version
/// references, bytes a push is using right now), on one server and on two replicas of one database.
/// </summary>
public sealed class GarbageCollectionTests : IAsyncLifetime
{
    // In the past, so that a replica on the system clock sees everything this server wrote as old.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow.AddDays(-30));
    private TestServer _server = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        // Without the OCI manifests built in the background, whose config blobs a collection would also delete (or not, by timing).
        _server = await TestServer.StartAsync(services => services.AddSingleton<TimeProvider>(_clock), "--Oci:BuildInBackground=false");

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private RegistryOptions Options => _server.Services.GetRequiredService<IOptions<RegistryOptions>>().Value;

    private TimeSpan PastGrace => Options.BlobGracePeriod + TimeSpan.FromMinutes(1);

    [Fact]
    public async Task ADryRunDeletesNothingAndTheRunThenDeletesExactlyWhatItListed()
    {
        byte[] a = ModelFolder.Bytes(1000, 1), b = ModelFolder.Bytes(2000, 2), shared = ModelFolder.Bytes(3000, 3);
        await PushAsync("fraud", ("a.bin", a), ("s.bin", shared));
        await PushAsync("fraud", ("b.bin", b), ("s.bin", shared));
        await _server.Client.DeleteVersionAsync(Versions.Ref("acme", "fraud", 1), cancellationToken: Ct);
        _clock.Advance(Options.PurgeDelay + TimeSpan.FromHours(1));

        var dry = await _server.Client.RunGcAsync(dryRun: true, Ct);
        Assert.Equal(new GcReport(true, false, 0, [], 0, 1, 1, 1000, 0, 0, 0, [Sha(a)]), dry, new ReportComparer());
        Assert.True(File.Exists(BlobFile(Sha(a))));
        Assert.Equal(2, await FileRowsAsync("fraud", 1));

        var run = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(new GcReport(false, true, 0, [], 0, 1, 1, 1000, 0, 0, 0, [Sha(a)]), run, new ReportComparer());
        Assert.False(File.Exists(BlobFile(Sha(a))));
        Assert.Equal(0, await FileRowsAsync("fraud", 1));
        Assert.True(File.Exists(BlobFile(Sha(b))));
        Assert.True(File.Exists(BlobFile(Sha(shared))));
        Assert.Equal(shared, await DownloadAsync("fraud", 2, "s.bin"));

        var again = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(new GcReport(false, true, 0, [], 0, 0, 0, 0, 0, 0, 0, []), again, new ReportComparer());
    }

    [Fact]
    public async Task ADeletedVersionKeepsItsBlobsUntilThePurgeDelayHasPassed()
    {
        var a = ModelFolder.Bytes(1000, 4);
        await PushAsync("kept", ("a.bin", a));
        await _server.Client.DeleteVersionAsync(Versions.Ref("acme", "kept", 1), cancellationToken: Ct);
        _clock.Advance(PastGrace);

        var run = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(0, run.PurgedVersions);
        Assert.Equal(0, run.Blobs);
        Assert.True(File.Exists(BlobFile(Sha(a))));
    }

    [Fact]
    public async Task ABlobUploadedForAVersionNotYetCommittedIsKept()
    {
        var c = ModelFolder.Bytes(1500, 5);
        var created = await DeclareAsync("inflight", "c.bin", c);
        Assert.Equal([Sha(c)], created.MissingBlobs);
        await PutBlobAsync("inflight", c);
        _clock.Advance(PastGrace);

        var run = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(0, run.Blobs);
        Assert.True(File.Exists(BlobFile(Sha(c))));
        var ready = await _server.Client.CommitVersionAsync("acme", "inflight", created.Version.Number, Ct);
        Assert.Equal(VersionStates.Ready, ready.State);
    }

    [Fact]
    public async Task ABlobUploadedBeforeItsVersionIsDeclaredIsKeptForTheGracePeriod()
    {
        var d = ModelFolder.Bytes(700, 6);
        await PutBlobAsync("early", d);
        _clock.Advance(Options.BlobGracePeriod / 2);
        Assert.Equal(0, (await _server.Client.RunGcAsync(cancellationToken: Ct)).Blobs);

        // Uploading the same bytes again (a retried push) counts as using them: the grace period starts over.
        await PutBlobAsync("early", d);
        _clock.Advance((Options.BlobGracePeriod / 2) + TimeSpan.FromMinutes(1));
        Assert.Equal(0, (await _server.Client.RunGcAsync(cancellationToken: Ct)).Blobs);
        Assert.True(File.Exists(BlobFile(Sha(d))));

        _clock.Advance(Options.BlobGracePeriod);
        var run = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal([Sha(d)], run.Digests);
        Assert.False(File.Exists(BlobFile(Sha(d))));
    }

    [Fact]
    public async Task DeclaringAnOldUnreferencedBlobKeepsIt()
    {
        var e = ModelFolder.Bytes(900, 7);
        await PutBlobAsync("old", e);
        _clock.Advance(PastGrace);

        var created = await DeclareAsync("old", "e.bin", e);
        Assert.Empty(created.MissingBlobs);
        Assert.Equal(0, (await _server.Client.RunGcAsync(cancellationToken: Ct)).Blobs);
        await _server.Client.CommitVersionAsync("acme", "old", created.Version.Number, Ct);
        Assert.Equal(e, await DownloadAsync("old", created.Version.Number, "e.bin"));
    }

    [Fact]
    public async Task APushRacingACollectionOfItsBytesSucceedsAndKeepsThem()
    {
        using var folder = new ModelFolder();
        var path = folder.Write("x.bin", 4000, seed: 8);
        var x = await File.ReadAllBytesAsync(path, Ct);
        await PutBlobAsync("race", x);
        _clock.Advance(PastGrace);

        // Whichever of the two reaches the blob's row first, the push ends with a ready version whose bytes exist.
        var push = _server.Client.PushAsync(folder.Root, "acme", "race", new PushOptions(), cancellationToken: Ct);
        var gc = _server.Client.RunGcAsync(cancellationToken: Ct);
        await Task.WhenAll(push, gc);

        Assert.Equal(VersionStates.Ready, (await push).Version.State);
        Assert.True(File.Exists(BlobFile(Sha(x))));
        Assert.Equal(x, await DownloadAsync("race", 1, "x.bin"));
        Assert.Equal(0, (await _server.Client.RunGcAsync(cancellationToken: Ct)).Blobs);
    }

    [Fact]
    public async Task ABlobMarkedByAnInterruptedCollectionCountsAsAbsentAndAPushRevivesIt()
    {
        var f = ModelFolder.Bytes(800, 9);
        await PutBlobAsync("revive", f);
        _clock.Advance(PastGrace);
        await MarkAsync(Sha(f));

        var created = await DeclareAsync("revive", "f.bin", f);
        Assert.Equal([Sha(f)], created.MissingBlobs);
        await PutBlobAsync("revive", f);
        await _server.Client.CommitVersionAsync("acme", "revive", created.Version.Number, Ct);

        Assert.Equal(0, (await _server.Client.RunGcAsync(cancellationToken: Ct)).Blobs);
        Assert.Equal(f, await DownloadAsync("revive", created.Version.Number, "f.bin"));
    }

    [Fact]
    public async Task ACollectionInterruptedAfterDeletingBytesLeavesOnlyAMarkedRowThatTheNextOneRemoves()
    {
        var g = ModelFolder.Bytes(600, 10);
        await PutBlobAsync("crash", g);
        _clock.Advance(PastGrace);
        await MarkAsync(Sha(g));
        File.Delete(BlobFile(Sha(g)));

        var check = await DeclareAsync("crash", "g.bin", g);
        Assert.Equal([Sha(g)], check.MissingBlobs);
        await _server.Client.DeleteVersionAsync(Versions.Ref("acme", "crash", check.Version.Number), cancellationToken: Ct);

        var run = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal([Sha(g)], run.Digests);
        await using var scope = _server.Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Blobs.AnyAsync(b => b.Digest == Sha(g), Ct));
    }

    [Fact]
    public async Task OrphanBytesAreDeletedOnlyPastTheGracePeriod()
    {
        var old = ModelFolder.Bytes(500, 11);
        var young = ModelFolder.Bytes(300, 12);
        WriteOrphan(old, _clock.GetUtcNow().UtcDateTime - PastGrace);
        WriteOrphan(young, _clock.GetUtcNow().UtcDateTime);

        var dry = await _server.Client.RunGcAsync(dryRun: true, Ct);
        Assert.Equal((1, 500L), (dry.OrphanFiles, dry.OrphanBytes));
        Assert.True(File.Exists(BlobFile(Sha(old))));

        var run = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal((1, 500L), (run.OrphanFiles, run.OrphanBytes));
        Assert.False(File.Exists(BlobFile(Sha(old))));
        Assert.True(File.Exists(BlobFile(Sha(young))));
    }

    [Fact]
    public async Task OnlyOneReplicaSweepsWhileAnotherHoldsTheLease()
    {
        await using var replica = await TestServer.StartReplicaAsync(_server);
        var h = ModelFolder.Bytes(400, 13);
        await PutBlobAsync("lease", h);
        _clock.Advance(PastGrace);

        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            Assert.True(await LeaseClaim.TryClaimAsync(db, GarbageCollector.LeaseName, "elsewhere", DateTime.UtcNow, DateTime.UtcNow.AddHours(1), Ct));
        }

        foreach (var server in new[] { replica, _server })
        {
            var skipped = await server.Client.RunGcAsync(cancellationToken: Ct);
            Assert.False(skipped.Swept);
            Assert.Equal(0, skipped.Blobs);
        }

        Assert.True(File.Exists(BlobFile(Sha(h))));
        await _server.Database.ExecuteAsync("DELETE FROM leases WHERE name = @name AND owner = 'elsewhere'", Ct, ("name", GarbageCollector.LeaseName));

        var run = await replica.Client.RunGcAsync(cancellationToken: Ct);
        Assert.True(run.Swept);
        Assert.Equal([Sha(h)], run.Digests);
    }

    [Fact]
    public async Task TheCollectorsLeaseIsRenewedWhileHeldAndLostWhenAnotherOwnerTakesIt()
    {
        var scopes = _server.Services.GetRequiredService<IServiceScopeFactory>();
        var start = _clock.GetUtcNow().UtcDateTime;
        var firstUntil = start + GarbageCollector.LeaseTime;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            Assert.True(await LeaseClaim.TryClaimAsync(db, GarbageCollector.LeaseName, "held", start, firstUntil, Ct));
        }

        var lease = new HeldLease(GarbageCollector.LeaseName, "held", firstUntil, GarbageCollector.LeaseTime, scopes, _clock, NullLogger.Instance);
        await using (lease)
        {
            // Held past its first lease time: it renewed itself, so a collection through the server is skipped.
            await AdvanceUntilAsync(async () => await _server.Database.LeaseUntilAsync(GarbageCollector.LeaseName, Ct) > firstUntil, "the lease to be renewed");
            _clock.Advance(firstUntil - _clock.GetUtcNow().UtcDateTime + TimeSpan.FromSeconds(1));
            var skipped = await _server.Client.RunGcAsync(cancellationToken: Ct);
            Assert.False(skipped.Swept);
            Assert.False(lease.IsLost);

            // Another owner takes the row (as a replica would once the lease lapsed): the next renewal finds it gone.
            await _server.Database.ExecuteAsync("UPDATE leases SET owner = 'thief' WHERE name = @name", Ct, ("name", GarbageCollector.LeaseName));
            await AdvanceUntilAsync(() => Task.FromResult(lease.IsLost), "the lease to be lost");
        }

        // Released, the lost lease leaves the thief's row alone.
        Assert.Equal("thief", await _server.Database.ScalarAsync("SELECT owner FROM leases WHERE name = @name", Ct, ("name", GarbageCollector.LeaseName)));
    }

    /// <summary>
    /// Moves the clock on one renewal period at a time until <paramref name="done"/>, giving the renewal each step starts
    /// (a database round trip) up to a second to land before the next: a clock run far ahead of renewals still on
    /// their way would let the lease lapse instead.
    /// </summary>
    private async Task AdvanceUntilAsync(Func<Task<bool>> done, string what)
    {
        for (var step = 0; step < 20; step++)
        {
            _clock.Advance(GarbageCollector.LeaseTime / 3);
            var waited = Stopwatch.StartNew();
            do
            {
                if (await done())
                {
                    return;
                }

                await Task.Delay(10, Ct);
            }
            while (waited.Elapsed < TimeSpan.FromSeconds(1));
        }

        var row = await _server.Database.ScalarAsync("SELECT owner FROM leases WHERE name = @name", Ct, ("name", GarbageCollector.LeaseName));
        Assert.Fail($"Timed out waiting for {what}: the gc lease row's owner is {row}, until {await _server.Database.LeaseUntilAsync(GarbageCollector.LeaseName, Ct):O}; the clock says {_clock.GetUtcNow():O}.");
    }

    [Fact]
    public async Task CollectionsOnTwoReplicasAtOnceDeleteEachBlobOnceAndNothingReferenced()
    {
        await using var replica = await TestServer.StartReplicaAsync(_server);
        var shared = ModelFolder.Bytes(5000, 20);
        var gone = new List<byte[]>();
        for (var i = 0; i < 4; i++)
        {
            var own = ModelFolder.Bytes(100 + i, 21 + i);
            await PushAsync("twice", ($"own{i}.bin", own), ("shared.bin", shared));
            if (i % 2 == 0)
            {
                gone.Add(own);
                await _server.Client.DeleteVersionAsync(Versions.Ref("acme", "twice", i + 1), cancellationToken: Ct);
            }
        }

        _clock.Advance(Options.PurgeDelay + TimeSpan.FromHours(1));
        var reports = await Task.WhenAll(
            _server.Client.RunGcAsync(cancellationToken: Ct), replica.Client.RunGcAsync(cancellationToken: Ct),
            _server.Client.RunGcAsync(cancellationToken: Ct), replica.Client.RunGcAsync(cancellationToken: Ct));

        Assert.Contains(reports, r => r.Swept);
        Assert.Equal(2, reports.Sum(r => r.PurgedVersions));
        Assert.Equal(gone.Select(Sha).Order(StringComparer.Ordinal), reports.SelectMany(r => r.Digests).Order(StringComparer.Ordinal));
        Assert.Equal(shared, await DownloadAsync("twice", 2, "shared.bin"));
        Assert.Equal(shared, await DownloadAsync("twice", 4, "shared.bin"));
        Assert.Equal(ModelFolder.Bytes(101, 22), await DownloadAsync("twice", 2, "own1.bin"));
        Assert.Equal(ModelFolder.Bytes(103, 24), await DownloadAsync("twice", 4, "own3.bin"));
    }

    [Fact]
    public async Task ADeletedModelIsGoneAtOnceAndItsVersionsArePurgedAfterTheDelayKeepingSharedBlobs()
    {
        byte[] own = ModelFolder.Bytes(1100, 30), shared = ModelFolder.Bytes(2200, 31);
        await PushAsync("doomed", ("own.bin", own), ("shared.bin", shared));
        await PushAsync("survivor", ("shared.bin", shared));
        await _server.Client.DeleteModelAsync("acme", "doomed", Ct);

        var missing = await Assert.ThrowsAsync<Client.BerthProblemException>(() => _server.Client.GetModelAsync("acme", "doomed", Ct));
        Assert.Equal("model_not_found", missing.Code);
        Assert.DoesNotContain(await _server.Client.ListModelsAsync("acme", Ct).ToListAsync(Ct), m => m.Name == "doomed");
        var events = await _server.Client.ListEventsAsync(types: [EventTypes.ModelDeleted], cancellationToken: Ct);
        Assert.Equal("acme/doomed", Assert.Single(events.Items).Model);

        _clock.Advance(PastGrace);
        Assert.Equal(0, (await _server.Client.RunGcAsync(cancellationToken: Ct)).PurgedVersions);

        _clock.Advance(Options.PurgeDelay);
        var run = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(1, run.PurgedVersions);
        Assert.Equal([Sha(own)], run.Digests);
        Assert.Equal(shared, await DownloadAsync("survivor", 1, "shared.bin"));
    }

    [Fact]
    public async Task ADeletedNamespaceTakesItsModelsAndNeedsItsNameRepeated()
    {
        var own = ModelFolder.Bytes(1300, 32);
        await PushAsync("inside", ("own.bin", own));
        using (var unconfirmed = await _server.Http.DeleteAsync("/api/v1/namespaces/acme", Ct))
        {
            await unconfirmed.AssertProblemAsync(System.Net.HttpStatusCode.BadRequest, "invalid_request");
        }

        await _server.Client.DeleteNamespaceAsync("acme", Ct);
        var missing = await Assert.ThrowsAsync<Client.BerthProblemException>(() => _server.Client.GetModelAsync("acme", "inside", Ct));
        Assert.Equal("namespace_not_found", missing.Code);

        _clock.Advance(Options.PurgeDelay + TimeSpan.FromHours(1));
        var run = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(1, run.PurgedVersions);
        Assert.Equal([Sha(own)], run.Digests);
    }

    [Fact]
    public async Task WithAnIntervalSetTheServerCollectsByItself()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.Configure<RegistryOptions>(o => o.GcInterval = TimeSpan.FromHours(2));
        });
        var maintenance = server.Services.GetRequiredService<MaintenanceService>();
        var collected = new TaskCompletionSource<GcReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        maintenance.Completed += report =>
        {
            if (report.Gc is { } gc)
            {
                collected.TrySetResult(gc);
            }
        };

        var bytes = ModelFolder.Bytes(321, 40);
        using (var content = new MemoryStream(bytes))
        {
            await server.Client.PutBlobAsync("acme", "scheduled", content, Digest.Parse(Sha(bytes)), bytes.Length, cancellationToken: Ct);
        }

        // Not due yet: a run now collects nothing.
        Assert.Null((await maintenance.RunOnceAsync(Ct)).Gc);

        // Due: this run or the background one that the clock wakes runs it, exactly one of them.
        clock.Advance(TimeSpan.FromHours(3));
        await maintenance.RunOnceAsync(Ct);
        var report = await collected.Task.WaitAsync(Ct);
        Assert.True(report.Swept);
        Assert.Equal([Sha(bytes)], report.Digests);
    }

    [Fact]
    public async Task ARunKeepsItsFilesUntilItIsDeletedAndPurgedAndThenItsBytesAndSeriesAreReclaimed()
    {
        var a = ModelFolder.Bytes(1200, 40);
        var run = await _server.Client.CreateRunAsync("acme", "runbytes", cancellationToken: Ct);
        await PutBlobAsync("runbytes", a);
        await _server.Client.AttachRunFilesAsync("acme", "runbytes", run.Id, [new FileEntry("ckpt/a.bin", a.Length, Sha(a))], Ct);
        await _server.Client.LogMetricsAsync("acme", "runbytes", run.Id, new MetricBatch([new("loss", 0, 0.5), new("loss", 1, 0.4)]), Ct);

        // A live run keeps its blobs past the grace period.
        _clock.Advance(PastGrace);
        var live = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal((0, 0), (live.PurgedRuns, live.Blobs));
        Assert.True(File.Exists(BlobFile(Sha(a))));

        // A deleted run keeps them until the purge delay has passed.
        await _server.Client.DeleteRunAsync("acme", "runbytes", run.Id, Ct);
        _clock.Advance(PastGrace);
        var deleted = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal((0, 0), (deleted.PurgedRuns, deleted.Blobs));
        Assert.True(File.Exists(BlobFile(Sha(a))));

        _clock.Advance(Options.PurgeDelay);
        var dry = await _server.Client.RunGcAsync(dryRun: true, Ct);
        Assert.Equal(1, dry.PurgedRuns);
        Assert.Equal([Sha(a)], dry.Digests);
        Assert.True(File.Exists(BlobFile(Sha(a))));

        var purged = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(1, purged.PurgedRuns);
        Assert.Equal([Sha(a)], purged.Digests);
        Assert.False(File.Exists(BlobFile(Sha(a))));
        await using var scope = _server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var row = await db.Runs.SingleAsync(r => r.PublicId == run.Id, Ct);
        Assert.NotNull(row.PurgedAt);
        Assert.Equal(0, await db.RunFiles.CountAsync(f => f.RunId == row.Id, Ct));
        Assert.Equal(0, await db.RunMetricChunks.CountAsync(c => c.RunId == row.Id, Ct));
        Assert.Equal(0, await db.RunMetrics.CountAsync(m => m.RunId == row.Id, Ct));
        Assert.Equal(0, (await _server.Client.RunGcAsync(cancellationToken: Ct)).PurgedRuns);
    }

    [Fact]
    public async Task AVersionRegisteredFromARunKeepsItsBytesAfterTheRunIsDeletedAndPurged()
    {
        byte[] weights = ModelFolder.Bytes(2200, 41), plot = ModelFolder.Bytes(300, 42);
        var run = await _server.Client.CreateRunAsync("acme", "registered", cancellationToken: Ct);
        await PutBlobAsync("registered", weights);
        await PutBlobAsync("registered", plot);
        await _server.Client.AttachRunFilesAsync("acme", "registered", run.Id,
            [new FileEntry("model/weights.bin", weights.Length, Sha(weights)), new FileEntry("plots/loss.png", plot.Length, Sha(plot))], Ct);
        var version = await _server.Client.RegisterRunAsync("acme", "registered", run.Id, new RegisterRunRequest(Path: "model/"), Ct);

        await _server.Client.DeleteRunAsync("acme", "registered", run.Id, Ct);
        _clock.Advance(Options.PurgeDelay + PastGrace);
        var report = await _server.Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(1, report.PurgedRuns);
        Assert.Equal([Sha(plot)], report.Digests);
        Assert.False(File.Exists(BlobFile(Sha(plot))));
        Assert.Equal(weights, await DownloadAsync("registered", version.Number, "weights.bin"));
    }

    private static string Sha(byte[] bytes) => ModelFolder.Sha256(bytes);

    private string BlobFile(string digest)
    {
        var hex = Digest.Parse(digest).Hex;
        return Path.Combine(_server.DataDirectory, "store", "blobs", "sha256", hex[..2], hex);
    }

    private void WriteOrphan(byte[] bytes, DateTime modified)
    {
        var file = BlobFile(Sha(bytes));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, bytes);
        File.SetLastWriteTimeUtc(file, modified);
    }

    private async Task<int> FileRowsAsync(string model, int number)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        return await db.VersionFiles.CountAsync(f => db.Versions.Any(v => v.Id == f.VersionId && v.Number == number && v.Model.Name == model), Ct);
    }

    private async Task MarkAsync(string digest)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var now = _clock.GetUtcNow().UtcDateTime;
        Assert.Equal(1, await db.Blobs.Where(b => b.Digest == digest).ExecuteUpdateAsync(s => s.SetProperty(b => b.DeletingAt, now), Ct));
    }

    /// <summary>Declares a version of acme/<paramref name="model"/> with one file (pending until committed).</summary>
    private Task<CreateVersionResponse> DeclareAsync(string model, string path, byte[] bytes) =>
        _server.Client.CreateVersionAsync("acme", model, new CreateVersionRequest([new FileEntry(path, bytes.Length, Sha(bytes))]), cancellationToken: Ct);

    private async Task PutBlobAsync(string model, byte[] bytes)
    {
        using var content = new MemoryStream(bytes);
        await _server.Client.PutBlobAsync("acme", model, content, Digest.Parse(Sha(bytes)), bytes.Length, cancellationToken: Ct);
    }

    private async Task PushAsync(string model, params (string Path, byte[] Bytes)[] files)
    {
        using var folder = new ModelFolder();
        foreach (var (path, bytes) in files)
        {
            await File.WriteAllBytesAsync(Path.Combine(folder.Root, path), bytes, Ct);
        }

        await _server.Client.PushAsync(folder.Root, "acme", model, new PushOptions(), cancellationToken: Ct);
    }

    private async Task<byte[]> DownloadAsync(string model, int number, string path) =>
        await _server.Http.GetByteArrayAsync($"/api/v1/models/acme/{model}/versions/{number}/files/{path}", Ct);

    private sealed class ReportComparer : IEqualityComparer<GcReport>
    {
        public bool Equals(GcReport? x, GcReport? y) =>
            x is not null && y is not null &&
            x with { Digests = [], RetentionVersions = [], RetentionRuns = [] } == y with { Digests = [], RetentionVersions = [], RetentionRuns = [] } &&
            x.Digests.SequenceEqual(y.Digests) && x.RetentionVersions.SequenceEqual(y.RetentionVersions) &&
            (x.RetentionRuns ?? []).SequenceEqual(y.RetentionRuns ?? []);

        public int GetHashCode(GcReport obj) => obj.Blobs;
    }
}
