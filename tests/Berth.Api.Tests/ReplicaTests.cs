using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Testing.S3;

namespace Berth.Api.Tests;

/// <summary>
/// Several servers over one database and one S3 bucket, as replicas behind a load balancer: one writer per upload
/// across replicas (the writer lease), and pushes, promotions, deletions and garbage collection running together on
/// three replicas, after which every invariant of the registry holds.
/// </summary>
public sealed class ReplicaTests : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly string _prefix = TestS3.NewPrefix("replicas");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await TestS3.EnsureBucketAsync(Ct);

    public async ValueTask DisposeAsync() => await TestS3.DeletePrefixAsync(_prefix, CancellationToken.None);

    [Fact]
    public async Task TwoReplicasWritingToOneUploadAtOnceLetExactlyOneWriteAndTheBytesStayIntact()
    {
        string[] settings = ["--blobs", TestS3.Setting(_prefix, "&part-size-mb=5"), "--Registry:UploadWriterLease=00:00:04"];
        await using var a = await TestServer.StartAsync(settings);
        await using var b = await TestServer.StartReplicaAsync(a, settings);
        var bytes = ModelFolder.Bytes(12 * MiB, 11);
        var location = await StartUploadAsync(a);
        var lease = "upload:" + location[(location.LastIndexOf('/') + 1)..];

        // Replica a receives a PATCH whose client stalls after 6 MiB; replica b is asked to write meanwhile.
        var stalled = new GatedContent(bytes, 6 * MiB);
        using var first = new HttpRequestMessage(HttpMethod.Patch, location) { Content = stalled };
        first.Headers.Add("Upload-Offset", "0");
        var winner = a.Http.SendAsync(first, Ct);
        await stalled.Stalled.WaitAsync(Deadline, Ct);
        await PollAsync(async () => await OffsetAsync(b, location) >= 5 * MiB ? true : (bool?)null, "a staged part");
        var claimedUntil = await LeaseUntilAsync(a, lease);
        Assert.NotNull(claimedUntil);

        // Past the lease time of the claim, a still holds the upload: it renews its lease while the body streams.
        await PollAsync(() => Task.FromResult(DateTime.UtcNow > claimedUntil!.Value.AddMilliseconds(200) ? true : (bool?)null), "the first lease time to pass");
        Assert.True(await LeaseUntilAsync(a, lease) > claimedUntil, "The writer did not renew its lease.");
        var offsetSeenByB = await OffsetAsync(b, location);
        using (var loser = await PatchAsync(b, location, offsetSeenByB, ModelFolder.Bytes(MiB, 12)))
        {
            var problem = await loser.AssertProblemAsync(HttpStatusCode.Conflict, "upload_busy");
            Assert.Equal(offsetSeenByB, problem.GetProperty("offset").GetInt64());
            Assert.InRange(int.Parse(loser.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture), 1, 4);
        }

        // A cancel through b is a write too: refused while a writes.
        using (var cancel = await b.Http.DeleteAsync(location, Ct))
        {
            await cancel.AssertProblemAsync(HttpStatusCode.Conflict, "upload_busy");
        }

        stalled.Release();
        using (var won = await winner)
        {
            Assert.Equal(HttpStatusCode.OK, won.StatusCode);
            Assert.Equal(bytes.Length, (await won.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("offset").GetInt64());
        }

        Assert.Null(await LeaseUntilAsync(a, lease));
        await FinishAsync(b, location, bytes);

        // Truly at once: two replicas append the same next chunk; exactly one succeeds each round.
        var chunks = Enumerable.Range(0, 4).Select(i => ModelFolder.Bytes(MiB, 20 + i)).ToList();
        location = await StartUploadAsync(b);
        for (var round = 0; round < chunks.Count; round++)
        {
            var offset = (long)round * MiB;
            var answers = await Task.WhenAll(PatchAsync(a, location, offset, chunks[round]), PatchAsync(b, location, offset, chunks[round]));
            try
            {
                Assert.Single(answers, r => r.StatusCode == HttpStatusCode.OK);
                var refused = answers.Single(r => r.StatusCode != HttpStatusCode.OK);
                Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
                var code = (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("code").GetString();
                Assert.Contains(code, new[] { "upload_busy", "upload_offset_mismatch" });
            }
            finally
            {
                foreach (var answer in answers)
                {
                    answer.Dispose();
                }
            }
        }

        await FinishAsync(a, location, [.. chunks.SelectMany(c => c)]);
        Assert.Equal(0L, Convert.ToInt64(await a.Database.ScalarAsync("SELECT COUNT(*) FROM leases WHERE name LIKE 'upload:%'", Ct), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task LeasesLeftByADeadReplicaAreClaimedOnceLapsedAndExpiryNeitherRemovesAHeldUploadNorKeepsLapsedLeases()
    {
        await using var server = await TestServer.StartAsync();
        var location = await StartUploadAsync(server);
        var id = location[(location.LastIndexOf('/') + 1)..];
        var now = DateTime.UtcNow;
        const string Insert = "INSERT INTO leases (name, owner, until) VALUES (@name, @owner, @until)";

        // A dead replica's lapsed lease on this upload, and one on an upload that no longer exists.
        await server.Database.ExecuteAsync(Insert, Ct, ("name", "upload:" + id), ("owner", "dead-1"), ("until", now.AddMinutes(-1)));
        await server.Database.ExecuteAsync(Insert, Ct, ("name", "upload:" + new string('0', 32)), ("owner", "dead-2"), ("until", now.AddMinutes(-1)));
        using (var patch = await PatchAsync(server, location, 0, ModelFolder.Bytes(1000, 30)))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        Assert.Equal(1L, await CountAsync(server, "SELECT COUNT(*) FROM leases WHERE name LIKE 'upload:%'"));

        // A live holder elsewhere: writes are refused, and expiry leaves the session alone although it is past its time.
        await server.Database.ExecuteAsync(Insert, Ct, ("name", "upload:" + id), ("owner", "elsewhere-1"), ("until", now.AddMinutes(10)));
        using (var busy = await PatchAsync(server, location, 1000, ModelFolder.Bytes(1000, 31)))
        {
            var problem = await busy.AssertProblemAsync(HttpStatusCode.Conflict, "upload_busy");
            Assert.Equal(1000, problem.GetProperty("offset").GetInt64());
            Assert.Equal("30", busy.Headers.GetValues("Retry-After").Single());
        }

        await server.Database.ExecuteAsync("UPDATE upload_sessions SET expires_at = @at", Ct, ("at", now.AddMinutes(-1)));
        Assert.Equal(0, (await server.Client.RunGcAsync(cancellationToken: Ct)).ExpiredUploads);
        Assert.Equal(1L, await CountAsync(server, "SELECT COUNT(*) FROM upload_sessions"));

        // Once that lease has lapsed, expiry removes the session and its data, and no upload lease row is left.
        await server.Database.ExecuteAsync("UPDATE leases SET until = @until WHERE name LIKE 'upload:%'", Ct, ("until", now.AddMinutes(-1)));
        Assert.Equal(1, (await server.Client.RunGcAsync(cancellationToken: Ct)).ExpiredUploads);
        Assert.Equal(0L, await CountAsync(server, "SELECT COUNT(*) FROM upload_sessions"));
        Assert.Equal(0L, await CountAsync(server, "SELECT COUNT(*) FROM leases WHERE name LIKE 'upload:%'"));
        Assert.False(Directory.Exists(Path.Combine(server.DataDirectory, "store", "uploads", id)));
        using var gone = await server.Http.GetAsync(location, Ct);
        await gone.AssertProblemAsync(HttpStatusCode.NotFound, "upload_not_found");
    }

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

        const int PushRounds = 8;
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
            for (var done = 0; done < 8;)
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
            while (deletions.Count < 4)
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

    private static async Task<string> StartUploadAsync(TestServer server)
    {
        using var start = await server.Http.PostAsync("/api/v1/models/acme/shared/uploads", null, Ct);
        Assert.Equal(HttpStatusCode.Created, start.StatusCode);
        return (await start.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("location").GetString()!;
    }

    private static async Task<HttpResponseMessage> PatchAsync(TestServer server, string location, long offset, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(body) };
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        return await server.Http.SendAsync(request, Ct);
    }

    /// <summary>Finishes the upload with the digest of <paramref name="bytes"/>: the server hashed exactly these bytes.</summary>
    private async Task FinishAsync(TestServer server, string location, byte[] bytes)
    {
        var digest = ModelFolder.Sha256(bytes);
        using var finish = await server.Http.PutAsync($"{location}?digest={digest}&size={bytes.Length}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, finish.StatusCode);
        using var s3 = TestS3.NewClient();
        using var blob = await s3.GetObjectAsync(TestS3.Bucket, $"{_prefix}/blobs/sha256/{digest[7..9]}/{digest[7..]}", Ct);
        await using var stream = blob.ResponseStream;
        Assert.Equal(digest[7..], Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, Ct)));
    }

    private static async Task<long> OffsetAsync(TestServer server, string location)
    {
        using var response = await server.Http.GetAsync(location, Ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("offset").GetInt64();
    }

    private static async Task<DateTime?> LeaseUntilAsync(TestServer server, string name)
    {
        var value = await server.Database.ScalarAsync("SELECT until FROM leases WHERE name = @name", Ct, ("name", name));
        return value switch
        {
            DBNull => null,
            DateTime d => DateTime.SpecifyKind(d.ToUniversalTime(), DateTimeKind.Utc),
            string text => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            _ => throw new InvalidOperationException($"Unexpected lease time {value}."),
        };
    }

    private static async Task<T> PollAsync<T>(Func<Task<T?>> probe, string what)
        where T : struct
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            Assert.True(clock.Elapsed < Deadline, $"Timed out waiting for {what}.");
            await Task.Delay(25, Ct);
        }
    }

    /// <summary>The system clock, moved forward by the test (timers keep real time), shared by the replicas.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private long _offset;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offset, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offset));
    }

    /// <summary>A body that sends its first bytes, then waits for <see cref="Release"/> before sending the rest.</summary>
    private sealed class GatedContent(byte[] bytes, int sendFirst) : HttpContent
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Stalled => _stalled.Task;

        public void Release() => _released.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(bytes.AsMemory(0, sendFirst), cancellationToken);
            await stream.FlushAsync(cancellationToken);
            _stalled.TrySetResult();
            await _released.Task.WaitAsync(cancellationToken);
            await stream.WriteAsync(bytes.AsMemory(sendFirst), cancellationToken);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }
}
