using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Testing.S3;

namespace Berth.Api.Tests;

/// <summary>
/// Several servers over one database and one S3 bucket, as replicas behind a load balancer: one writer per upload
/// across replicas (the writer lease), its renewal, and what happens to the leases a dead replica leaves. The soak of
/// three replicas is <see cref="ReplicaSoakTests"/>.
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
        var claimedUntil = await a.Database.LeaseUntilAsync(lease, Ct);
        Assert.NotNull(claimedUntil);

        // Past the lease time of the claim, a still holds the upload: it renews its lease while the body streams.
        await PollAsync(() => Task.FromResult(DateTime.UtcNow > claimedUntil!.Value.AddMilliseconds(200) ? true : (bool?)null), "the first lease time to pass");
        Assert.True(await a.Database.LeaseUntilAsync(lease, Ct) > claimedUntil, "The writer did not renew its lease.");
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

        Assert.Null(await a.Database.LeaseUntilAsync(lease, Ct));
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

    private static async Task<long> CountAsync(TestServer server, string sql) =>
        Convert.ToInt64(await server.Database.ScalarAsync(sql, Ct), CultureInfo.InvariantCulture);

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
