using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Testing.S3;

namespace Berth.Api.Tests;

/// <summary>
/// The soak of replicas: three servers over one database and one S3 bucket, with pushes, promotions, deletions and
/// garbage collection running on all of them at once; afterwards every invariant of the registry holds.
/// </summary>
public sealed class ReplicaSoakTests : IAsyncLifetime
{
    private readonly string _prefix = TestS3.NewPrefix("soak");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await TestS3.EnsureBucketAsync(Ct);

    public async ValueTask DisposeAsync() => await TestS3.DeletePrefixAsync(_prefix, CancellationToken.None);

    /// <summary>
    /// The soak: three replicas, several clients pushing (sharing some blobs), promoting to an exclusive stage,
    /// deleting versions, and garbage collection on every replica with the clock moving past the grace period each time,
    /// all at once for a fixed number of rounds. Afterwards every invariant holds.
    /// </summary>
    [Fact]
    public async Task PushesPromotionsDeletionsAndCollectionsOnThreeReplicasLeaveEveryInvariantIntact()
    {
        var clock = new SteppingClock();
        void Clock(Microsoft.Extensions.DependencyInjection.IServiceCollection services) =>
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<TimeProvider>(services, clock);
        string[] settings =
        [
            "--blobs", TestS3.Setting(_prefix, "&part-size-mb=5"),
            "--Registry:BlobGracePeriod=00:01:00", "--Registry:PurgeDelay=00:00:00", "--Registry:UploadWriterLease=00:00:05",
        ];
        await using var first = await TestServer.StartAsync(Clock, settings);
        await using var second = await TestServer.StartReplicaAsync(first, Clock, settings);
        await using var third = await TestServer.StartReplicaAsync(first, Clock, settings);
        TestServer[] replicas = [first, second, third];
        await first.Client.CreateNamespaceAsync(new CreateNamespaceRequest("soak"), Ct);
        await first.Client.SetStageRuleAsync("soak", null, "production", new SetStageRuleRequest(Exclusive: true), Ct);

        // Promotions go to two models; deletions to a third, so that "one holder" is exact for the promoted ones.
        string[] promoted = ["alpha", "beta"];
        const string churned = "gamma";
        string[] models = [.. promoted, churned];
        var shared = Enumerable.Range(0, 3).Select(i => ModelFolder.Bytes(300_000 + i, 900 + i)).ToArray();
        var pushes = new System.Collections.Concurrent.ConcurrentBag<VersionInfo>();
        var promotions = new System.Collections.Concurrent.ConcurrentBag<(string Model, int Number)>();
        var deletions = new System.Collections.Concurrent.ConcurrentBag<(string Model, int Number)>();
        var reports = new System.Collections.Concurrent.ConcurrentBag<GcReport>();
        var expectedFailures = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watch = Stopwatch.StartNew();

        const int PushRounds = 12;
        var pushing = new TaskCompletionSource();

        async Task PushAsync(int client)
        {
            var random = new Random(client);
            for (var round = 0; round < PushRounds; round++)
            {
                var model = models[random.Next(models.Length)];
                using var folder = new ModelFolder();
                await File.WriteAllBytesAsync(Path.Combine(folder.Root, "weights.bin"), ModelFolder.Bytes(random.Next(100_000, 1_500_000), (client * 100) + round), Ct);
                await File.WriteAllBytesAsync(Path.Combine(folder.Root, "vocab.bin"), shared[random.Next(shared.Length)], Ct);
                var options = new PushOptions { SingleRequestLimit = 256 * 1024, Metrics = new Dictionary<string, double> { ["auc"] = random.NextDouble() } };
                var result = await replicas[random.Next(replicas.Length)].Client.PushAsync(folder.Root, "soak", model, options, cancellationToken: Ct);
                Assert.Equal(VersionStates.Ready, result.Version.State);
                pushes.Add(result.Version);
            }
        }

        async Task PromoteAsync(int client)
        {
            var random = new Random(100 + client);
            for (var done = 0; done < 12;)
            {
                var model = promoted[random.Next(promoted.Length)];
                var ready = pushes.Where(v => v.Model == model).ToList();
                if (ready.Count == 0)
                {
                    Assert.False(pushing.Task.IsCompleted, $"Nothing was pushed to {model}.");
                    await Task.Delay(50, Ct);
                    continue;
                }

                var target = ready[random.Next(ready.Count)];
                await replicas[random.Next(replicas.Length)].Client.ChangeStageAsync(Versions.Ref("soak", model, target.Number), "production", cancellationToken: Ct);
                promotions.Add((model, target.Number));
                done++;
            }
        }

        async Task DeleteAsync()
        {
            var random = new Random(200);
            while (deletions.Count < 6)
            {
                // Delete while pushes go on, keeping one version of the model at least.
                var candidates = pushes.Where(v => v.Model == churned && !deletions.Contains((churned, v.Number))).ToList();
                if (candidates.Count < 2)
                {
                    if (pushing.Task.IsCompleted)
                    {
                        return;
                    }

                    await Task.Delay(100, Ct);
                    continue;
                }

                var victim = candidates[random.Next(candidates.Count)];
                await replicas[random.Next(replicas.Length)].Client.DeleteVersionAsync(Versions.Ref("soak", churned, victim.Number), cancellationToken: Ct);
                deletions.Add((churned, victim.Number));
            }
        }

        async Task CollectAsync(int replica)
        {
            while (!stop.IsCancellationRequested)
            {
                // Every blob written before this moment is past its grace period for this collection.
                clock.Advance(TimeSpan.FromSeconds(61));
                reports.Add(await replicas[replica].Client.RunGcAsync(cancellationToken: Ct));
                await Task.Delay(150, Ct);
            }
        }

        var pushers = Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => PushAsync(i), Ct)));
        _ = pushers.ContinueWith(_ => pushing.TrySetResult(), TaskScheduler.Default);
        var work = Task.WhenAll(
            pushers,
            Task.WhenAll(Enumerable.Range(0, 3).Select(i => Task.Run(() => PromoteAsync(i), Ct))),
            Task.Run(DeleteAsync, Ct));
        var collectors = Task.WhenAll(Enumerable.Range(0, replicas.Length).Select(i => Task.Run(() => CollectAsync(i), Ct)));
        try
        {
            await work.WaitAsync(TimeSpan.FromMinutes(3), Ct);
        }
        finally
        {
            await stop.CancelAsync();
            await collectors;
        }

        // One more collection once everything has settled, so every deletion has been purged and swept.
        clock.Advance(TimeSpan.FromSeconds(61));
        var last = await second.Client.RunGcAsync(cancellationToken: Ct);
        Assert.True(last.Swept, "The last collection did not sweep.");
        reports.Add(last);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"Soak: {pushes.Count} pushes, {promotions.Count} promotions, {deletions.Count} deletions, {reports.Count(r => r.Swept)} of {reports.Count} collections swept " +
            $"({reports.Sum(r => r.PurgedVersions)} versions purged, {reports.Sum(r => r.Blobs)} blobs deleted) in {watch.Elapsed.TotalSeconds:F1} s");

        // Every push that succeeded is there: ready, or deleted by the deleter.
        Assert.Equal(4 * PushRounds, pushes.Count);
        Assert.True(reports.Sum(r => r.PurgedVersions) >= deletions.Count && deletions.Count > 0, "The collections did not purge the deleted versions.");
        Assert.True(reports.Sum(r => r.Blobs) > 0, "The collections deleted no blob.");
        var live = new List<VersionInfo>();
        foreach (var pushed in pushes)
        {
            var reference = Versions.Ref("soak", pushed.Model, pushed.Number);
            var client = replicas[pushed.Number % replicas.Length].Client;
            if (deletions.Contains((pushed.Model, pushed.Number)))
            {
                var gone = await Assert.ThrowsAsync<Berth.Client.BerthProblemException>(() => client.GetVersionAsync(reference, withFiles: true, Ct));
                Assert.Equal("version_deleted", gone.Code);
                continue;
            }

            var now = await client.GetVersionAsync(reference, withFiles: true, Ct);
            Assert.Equal(pushed.ManifestDigest, now.ManifestDigest);
            Assert.Equal(VersionStates.Ready, now.State);
            live.Add(now);
        }

        // Every ready version's blobs exist in the bucket, hash to their digests, and have live rows; no other blob is left.
        using var s3 = TestS3.NewClient();
        var needed = live.SelectMany(v => v.Files!).Select(f => f.Digest).ToHashSet(StringComparer.Ordinal);
        foreach (var digest in needed)
        {
            using var blob = await s3.GetObjectAsync(TestS3.Bucket, $"{_prefix}/blobs/sha256/{digest[7..9]}/{digest[7..]}", Ct);
            await using var stream = blob.ResponseStream;
            Assert.Equal(digest[7..], Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, Ct)));
        }

        var stored = (await TestS3.ListAsync(_prefix, Ct)).Select(o => o.Key).ToList();
        var storedBlobs = stored.Where(k => k.StartsWith($"{_prefix}/blobs/", StringComparison.Ordinal)).Select(k => "sha256:" + k[(k.LastIndexOf('/') + 1)..]).ToHashSet();
        var rows = await ColumnAsync(first, "SELECT digest FROM blobs WHERE deleting_at IS NULL");
        Assert.Equal(storedBlobs.Order(), rows.Order());
        Assert.Subset(storedBlobs, needed);
        Assert.Equal(0L, await CountAsync(first, "SELECT COUNT(*) FROM blobs WHERE deleting_at IS NOT NULL"));

        // An exclusive stage has exactly one holder once a promotion into it succeeded.
        foreach (var model in promoted)
        {
            var holders = live.Where(v => v.Model == model && v.Stage == "production").ToList();
            Assert.Equal(promotions.Any(p => p.Model == model) ? 1 : 0, holders.Count);
            var history = await first.Client.GetHoldersAsync("soak", model, clock.GetUtcNow().AddSeconds(1), stage: "production", cancellationToken: Ct);
            Assert.Equal(holders.Select(h => h.Number), history.Versions);
        }

        Assert.True(promotions.Count > 0, "No promotion happened.");

        // Nothing dangles: no upload sessions, no upload leases, no staged upload objects, the sweep's lease released.
        Assert.Equal(0L, await CountAsync(first, "SELECT COUNT(*) FROM upload_sessions"));
        Assert.Equal(0L, await CountAsync(first, "SELECT COUNT(*) FROM leases WHERE name LIKE 'upload:%'"));
        Assert.Equal(0L, await CountAsync(first, "SELECT COUNT(*) FROM leases WHERE owner IS NOT NULL"));
        Assert.DoesNotContain(stored, k => k.Contains("/uploads/", StringComparison.Ordinal));
        Assert.Equal(0L, await CountAsync(first, "SELECT COUNT(*) FROM versions WHERE state = 'pending'"));

        // And the audit chain, written by three replicas at once, verifies.
        var audit = await third.Client.VerifyAuditAsync(Ct);
        Assert.True(audit.Valid, audit.Problem);
        Assert.True(audit.Entries > pushes.Count + promotions.Count + deletions.Count);
    }

    private static async Task<long> CountAsync(TestServer server, string sql) =>
        Convert.ToInt64(await server.Database.ScalarAsync(sql, Ct), CultureInfo.InvariantCulture);

    private static async Task<List<string>> ColumnAsync(TestServer server, string sql)
    {
        await using var connection = server.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    /// <summary>The system clock, moved forward by the test (timers keep real time), shared by the replicas.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private long _offset;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offset, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offset));
    }
}
