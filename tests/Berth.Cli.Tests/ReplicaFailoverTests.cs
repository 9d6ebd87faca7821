using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Berth.Cli.Tests.Support;
using Berth.Testing.S3;

namespace Berth.Cli.Tests;

/// <summary>
/// Two <c>berth serve</c> processes sharing one database and one S3 bucket, as replicas behind a load balancer: a
/// replica killed with SIGKILL in the middle of an upload holds the upload only until its writer lease runs out, then
/// the client (<c>berth push</c>, through one address in front of both) resumes it on the other replica, and the
/// version pulls back intact.
/// </summary>
[Trait("Database", "both")]
public sealed class ReplicaFailoverTests : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(4);
    private readonly string _prefix = TestS3.NewPrefix("replicas");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await TestS3.EnsureBucketAsync(Ct);

    public async ValueTask DisposeAsync() => await TestS3.DeletePrefixAsync(_prefix, CancellationToken.None);

    [Fact]
    public async Task APushWhoseReplicaIsKilledMidUploadResumesOnAnotherOnceTheLeaseRunsOut()
    {
        using var model = new ModelFolder(("weights.bin", 24 * MiB), ("config.json", 700));
        var bytes = await File.ReadAllBytesAsync(Path.Combine(model.Root, "weights.bin"), Ct);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        var environment = new Dictionary<string, string>
        {
            ["BERTH_BLOBS"] = TestS3.Setting(_prefix, "&part-size-mb=5"),
            ["BERTH_Registry__UploadWriterLease"] = Lease.ToString("c", CultureInfo.InvariantCulture),
        };

        await using var survivor = await ServerProcess.StartAsync(fsync: false, Ct, environment);
        await using var doomed = await ServerProcess.StartReplicaAsync(survivor, environment, Ct);
        using var direct = Client(survivor);

        // The client reaches the replicas through one address; its link is slow (4 MiB/s), so the upload takes a while.
        await using var balancer = new LoadBalancer(new Uri(doomed.Url), bytesPerSecond: 4 * MiB);
        using var user = new CliUser();
        var variables = new Dictionary<string, string?> { ["BERTH_URL"] = balancer.Url, ["BERTH_TOKEN"] = survivor.AdminToken };
        var push = user.RunWithAsync(variables, "push", model.Root, "failover/model", "--json");

        // Once a part of the big file is staged in the bucket, the replica receiving it dies; the balancer sends
        // everything after that to the survivor.
        var location = await PollAsync(async () =>
        {
            foreach (var id in await UploadIdsAsync(survivor))
            {
                var candidate = $"/api/v1/models/failover/model/uploads/{id}";
                if (await OffsetAsync(direct, candidate) >= 5 * MiB)
                {
                    return candidate;
                }
            }

            return null;
        }, "a part of the big file to be staged");
        var leaseName = "upload:" + location[(location.LastIndexOf('/') + 1)..];
        var (holder, _) = await LeaseAsync(survivor, leaseName);
        Assert.NotNull(holder);
        Assert.False(push.IsCompleted, "The push finished before the replica could be killed.");

        balancer.SwitchTo(new Uri(survivor.Url), bytesPerSecond: 0);
        await doomed.KillAsync();
        var killed = DateTime.UtcNow;

        // The dead replica still holds the upload: the survivor refuses to write to it, says how much it holds, and
        // when to try again.
        var (owner, until) = await LeaseAsync(survivor, leaseName);
        Assert.Equal(holder, owner);
        Assert.True(until > killed, $"The lease ran out at {until:O}, before the replica was killed at {killed:O}.");
        var offset = await OffsetAsync(direct, location);
        Assert.InRange(offset, 5 * MiB, bytes.Length - 1);
        Assert.Equal(0, offset % (5 * MiB));
        using (var probe = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent([]) })
        {
            probe.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
            using var busy = await direct.SendAsync(probe, Ct);
            Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
            var problem = await busy.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal("upload_busy", problem.GetProperty("code").GetString());
            Assert.Equal(offset, problem.GetProperty("offset").GetInt64());
            Assert.InRange(int.Parse(busy.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture), 1, (int)Lease.TotalSeconds);
        }

        // The push waits out the lease, resumes from the offset through the survivor, and the version becomes ready.
        var pushed = (await push.WaitAsync(Deadline, Ct)).Succeeded();
        var finished = DateTime.UtcNow;
        Assert.Equal("ready", pushed.Json.GetProperty("version").GetProperty("state").GetString());
        Assert.True(finished >= until, $"The upload was resumed before the dead replica's lease ran out ({until:O}).");
        Assert.InRange(pushed.Json.GetProperty("bytesUploaded").GetInt64(), bytes.Length, (2L * bytes.Length) - offset + 700);

        // Nothing is left of the upload (session, lease row, staged objects), and the blob hashes to its digest. The
        // killed replica may have died in the middle of another request (the small file's one-request upload, which
        // the client then sent again): a session it created before it died stays until it expires, and that is all.
        var id = location[(location.LastIndexOf('/') + 1)..];
        var left = await UploadIdsAsync(survivor);
        Assert.DoesNotContain(id, left);
        foreach (var other in left)
        {
            var created = await TimeAsync(survivor, "SELECT created_at FROM upload_sessions WHERE id = @id", other);
            Assert.True(created <= killed, $"Upload {other} was created at {created:O}, after the replica was killed ({killed:O}), and left behind.");
        }

        Assert.Equal(0L, Convert.ToInt64(await survivor.Database.ScalarAsync("SELECT COUNT(*) FROM leases WHERE name LIKE 'upload:%'", Ct), CultureInfo.InvariantCulture));
        var keys = (await TestS3.ListAsync(_prefix, Ct)).Select(o => o.Key).ToList();
        Assert.DoesNotContain(keys, k => k.Contains($"/uploads/{id}/", StringComparison.Ordinal));
        Assert.All(keys.Where(k => k.Contains("/uploads/", StringComparison.Ordinal)), k => Assert.Contains(left, l => k.Contains($"/uploads/{l}/", StringComparison.Ordinal)));
        using (var s3 = TestS3.NewClient())
        using (var blob = await s3.GetObjectAsync(TestS3.Bucket, $"{_prefix}/blobs/sha256/{digest[7..9]}/{digest[7..]}", Ct))
        await using (var stream = blob.ResponseStream)
        {
            Assert.Equal(digest[7..], Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, Ct)));
        }

        var output = Path.Combine(user.Root, "pulled");
        (await user.RunWithAsync(variables, "pull", "failover/model:1", "-o", output)).Succeeded();
        ModelFolder.AssertSameTree(model.Root, output);
        Assert.Equal(bytes, await direct.GetByteArrayAsync("/api/v1/models/failover/model/versions/1/files/weights.bin", Ct));
    }

    private static async Task<List<string>> UploadIdsAsync(ServerProcess server)
    {
        await using var connection = server.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM upload_sessions";
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private static async Task<DateTime> TimeAsync(ServerProcess server, string sql, string id) =>
        await server.Database.ScalarAsync(sql, Ct, ("id", id)) switch
        {
            DateTime d => DateTime.SpecifyKind(d.ToUniversalTime(), DateTimeKind.Utc),
            string text => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            var other => throw new InvalidOperationException($"Unexpected time {other}."),
        };

    /// <summary>Who holds a lease row and until when (nulls when there is no row).</summary>
    private static async Task<(string? Owner, DateTime Until)> LeaseAsync(ServerProcess server, string name)
    {
        await using var connection = server.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT owner, until FROM leases WHERE name = @name";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "name";
        parameter.Value = name;
        command.Parameters.Add(parameter);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        if (!await reader.ReadAsync(Ct))
        {
            return (null, DateTime.MinValue);
        }

        var until = reader.GetValue(1) switch
        {
            DateTime d => DateTime.SpecifyKind(d.ToUniversalTime(), DateTimeKind.Utc),
            string text => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            var other => throw new InvalidOperationException($"Unexpected lease time {other}."),
        };
        return (reader.GetString(0), until);
    }

    private static HttpClient Client(ServerProcess server)
    {
        var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = Deadline };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        return http;
    }

    private static async Task<long> OffsetAsync(HttpClient http, string location)
    {
        using var response = await http.GetAsync(location, Ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return -1; // A one-request upload (the small file) that finished meanwhile.
        }

        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("offset").GetInt64();
    }

    private static async Task<T> PollAsync<T>(Func<Task<T?>> probe, string what)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            Assert.True(clock.Elapsed < Deadline, $"Timed out waiting for {what}.");
            await Task.Delay(50, Ct);
        }
    }

}
