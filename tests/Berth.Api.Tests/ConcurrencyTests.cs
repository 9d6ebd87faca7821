using System.Net;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Contracts.Json;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

public sealed class ConcurrencyTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoClientsPushingTheSameNewSemanticVersionOneWinsTheOtherGets409()
    {
        for (var round = 0; round < 5; round++)
        {
            var semver = $"1.0.{round}";
            var bodies = Enumerable.Range(0, 2).Select(i => Http.CreateVersionJson(ModelFolder.Sha256(ModelFolder.Bytes(10, (round * 10) + i)), 10, version: semver)).ToList();
            using var clientA = Server.NewHttp(Server.AdminToken);
            using var clientB = Server.NewHttp(Server.AdminToken);
            var responses = await Task.WhenAll(
                clientA.SendJsonAsync(HttpMethod.Post, "/api/v1/models/race/semver/versions", bodies[0], Ct),
                clientB.SendJsonAsync(HttpMethod.Post, "/api/v1/models/race/semver/versions", bodies[1], Ct));
            Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
            await responses.Single(r => r.StatusCode == HttpStatusCode.Conflict).AssertProblemAsync(HttpStatusCode.Conflict, "version_exists");
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    /// <summary>
    /// A declaration of many files writes them in batches, each its own short transaction: other writes go ahead while it
    /// runs (it used to hold the one write transaction to the end, 21 s for 100,000 files).
    /// </summary>
    [Fact]
    public async Task ALargeDeclarationLetsOtherWritesThroughWhileItRuns()
    {
        await Server.Client.CreateModelAsync("race", new Contracts.Dtos.CreateModelRequest("bystander"), Ct);
        var files = Enumerable.Range(0, 40_000).Select(i => new Dictionary<string, object>
        {
            ["path"] = $"shard-{i / 1000}/part-{i}.bin",
            ["size"] = 1,
            ["digest"] = ModelFolder.Sha256([(byte)(i % 251), (byte)(i / 251 % 251), (byte)(i / 63001)]),
        }).ToList();
        var declaring = Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/race/large/versions",
            JsonSerializer.Serialize(new Dictionary<string, object> { ["files"] = files }), Ct);

        // Once the first batch of files is committed, another write must not wait for the rest.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (await FileRowsAsync("large") == 0)
        {
            Assert.False(declaring.IsCompleted, "The declaration's files became visible only when it ended: one transaction held them all.");
            Assert.True(DateTime.UtcNow < deadline, "The declaration wrote no file.");
            await Task.Delay(10, Ct);
        }

        using (var write = await Server.Http.SendJsonAsync(HttpMethod.Patch, "/api/v1/models/race/bystander", """{"description":"written meanwhile"}""", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        }

        Assert.True(await FileRowsAsync("large") < 40_000, "Another write had to wait until every file of the declaration was written.");
        using var declared = await declaring;
        var version = await declared.ReadAsync(BerthJsonContext.Default.CreateVersionResponse);
        Assert.Equal(40_000, version.Version.FileCount);
        Assert.Equal(40_000, await FileRowsAsync("large"));
    }

    [Fact]
    public async Task ADeclarationThatBrokeOffCannotBeCommittedAndDeclaringItAgainFinishesIt()
    {
        var files = Enumerable.Range(0, 5000).Select(i => new Dictionary<string, object> { ["path"] = $"f{i}", ["size"] = 1, ["digest"] = ModelFolder.Sha256([(byte)(i % 256), (byte)(i / 256)]) }).ToList();
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["version"] = "7.0.0", ["files"] = files });
        using (var first = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/race/broken/versions", body, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        // What a server that died between two batches leaves behind: the version, part of its files.
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            await db.VersionFiles.Where(f => db.Versions.Any(v => v.Id == f.VersionId && v.Model.Name == "broken") && string.Compare(f.Path, "f3") > 0).ExecuteDeleteAsync(Ct);
        }

        using (var commit = await Server.Http.PostAsync("/api/v1/models/race/broken/versions/7.0.0/commit", null, Ct))
        {
            await commit.AssertProblemAsync(HttpStatusCode.Conflict, "conflict");
        }

        using var again = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/race/broken/versions", body, Ct);
        var resumed = await again.ReadAsync(BerthJsonContext.Default.CreateVersionResponse);
        Assert.Equal(1, resumed.Version.Number);
        Assert.Equal(5000, await FileRowsAsync("broken"));
    }

    private async Task<int> FileRowsAsync(string model)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        return await db.VersionFiles.CountAsync(f => db.Versions.Any(v => v.Id == f.VersionId && v.Model.Name == model), Ct);
    }

    [Fact]
    public async Task ManyConcurrentPushesGetDistinctNumbers()
    {
        var bodies = Enumerable.Range(0, 12).Select(i => Http.CreateVersionJson(ModelFolder.Sha256(ModelFolder.Bytes(20, 500 + i)), 20)).ToList();
        var responses = await Task.WhenAll(bodies.Select(b => Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/race/numbers/versions", b, Ct)));
        var numbers = new List<int>();
        foreach (var response in responses)
        {
            numbers.Add((await response.ReadAsync(BerthJsonContext.Default.CreateVersionResponse)).Version.Number);
            response.Dispose();
        }

        Assert.Equal(Enumerable.Range(1, 12), numbers.Order());
    }

    [Fact]
    public async Task AnIdempotencyKeyReplaysTheFirstResponse()
    {
        var body = Http.CreateVersionJson(ModelFolder.Sha256(ModelFolder.Bytes(30, 77)), 30, version: "5.0.0");
        using var first = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/race/idem/versions", body, Ct, ("Idempotency-Key", "push-1"));
        using var second = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/race/idem/versions", body, Ct, ("Idempotency-Key", "push-1"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(Ct), await second.Content.ReadAsStringAsync(Ct));
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        var versions = await (await Server.Http.GetAsync("/api/v1/models/race/idem/versions?state=all", Ct)).ReadAsync(BerthJsonContext.Default.PageVersionInfo);
        Assert.Single(versions.Items);

        var other = Http.CreateVersionJson(ModelFolder.Sha256(ModelFolder.Bytes(30, 78)), 30, version: "5.0.1");
        using var reused = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/race/idem/versions", other, Ct, ("Idempotency-Key", "push-1"));
        await reused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
    }

    [Fact]
    public async Task AReplayedResponseCarryingASecretIsStoredEncrypted()
    {
        // A new token's secret is in the response that an Idempotency-Key retry replays: what the database keeps of
        // it for that is encrypted like every other secret at rest.
        using var first = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/tokens", """{"name":"ci-idem"}""", Ct, ("Idempotency-Key", "token-1"));
        using var second = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/tokens", """{"name":"ci-idem"}""", Ct, ("Idempotency-Key", "token-1"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        var created = await first.ReadAsync(BerthJsonContext.Default.CreatedToken);
        Assert.Equal(created.Token, (await second.ReadAsync(BerthJsonContext.Default.CreatedToken)).Token);

        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Berth.Core.Data.RegistryDbContext>();
        var stored = await db.IdempotencyRecords.AsNoTracking().Where(r => r.Key == "token-1").Select(r => r.Body).SingleAsync(Ct);
        Assert.NotNull(stored);
        Assert.DoesNotContain(created.Token, System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        Assert.DoesNotContain("ci-idem", System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentAppendsToOneUploadNeverInterleave()
    {
        using var start = await Server.Http.PostAsync("/api/v1/models/race/upload/uploads", null, Ct);
        var upload = await start.ReadAsync(BerthJsonContext.Default.UploadInfo);
        var chunk = ModelFolder.Bytes(2 * 1024 * 1024, 99);
        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var http = Server.NewHttp(Server.AdminToken);
            using var request = new HttpRequestMessage(HttpMethod.Patch, upload.Location) { Content = new ByteArrayContent(chunk) };
            request.Content.Headers.ContentType = new("application/octet-stream");
            request.Headers.Add("Upload-Offset", "0");
            using var response = await http.SendAsync(request, Ct);
            return response.StatusCode;
        }));

        // Exactly one append at offset 0 can succeed; the others are told the upload moved on or is busy.
        Assert.Equal(1, responses.Count(s => s == HttpStatusCode.OK));
        Assert.All(responses.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.Conflict, s));
        using var status = await Server.Http.GetAsync(upload.Location, Ct);
        Assert.Equal(chunk.Length, (await status.ReadAsync(BerthJsonContext.Default.UploadInfo)).Offset);
        using var finish = await Server.Http.PutAsync($"{upload.Location}?digest={ModelFolder.Sha256(chunk)}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, finish.StatusCode);
    }
}
