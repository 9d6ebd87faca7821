using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests;

/// <summary>
/// API rate limits, with limits configured low and a refill period of an hour so that no bucket refills while a
/// test runs: per token for authenticated requests, per address for the rest, transfers in buckets of their own.
/// </summary>
// Engine-independent (the rate limiter, kept in memory): run in scripts/test.sh's SQLite pass only (AssemblyTraits.cs).
[Trait("Database", "sqlite")]
public sealed class RateLimitTests : IAsyncLifetime
{
    private const int TokenBurst = 30;
    private const int AddressBurst = 10;
    private const int TransferBurst = 120;
    private TestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(
        $"--RateLimits:TokenBurst={TokenBurst}", "--RateLimits:TokenRefill=1",
        $"--RateLimits:AddressBurst={AddressBurst}", "--RateLimits:AddressRefill=1",
        $"--RateLimits:TransferBurst={TransferBurst}", "--RateLimits:TransferRefill=1",
        "--RateLimits:Period=01:00:00");

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ATokenBeyondItsBurstGets429WithRetryAfterWhileOtherTokensGoOn()
    {
        using var first = _server.NewHttp((await _server.Client.CreateTokenAsync(new CreateTokenRequest("first"), Ct)).Token);
        using var second = _server.NewHttp((await _server.Client.CreateTokenAsync(new CreateTokenRequest("second"), Ct)).Token);

        for (var i = 0; i < TokenBurst; i++)
        {
            using var allowed = await first.GetAsync("/api/v1/whoami", Ct);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var refused = await first.GetAsync("/api/v1/whoami", Ct);
        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.Equal((int)retryAfter.Value.TotalSeconds, problem.GetProperty("retryAfter").GetInt32());
        Assert.True(refused.Headers.CacheControl?.NoStore);

        using var other = await second.GetAsync("/api/v1/whoami", Ct);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task RequestsWithoutAValidTokenAreLimitedPerAddressAndProbesNever()
    {
        await using var server = await TestServer.StartAsync($"--RateLimits:AddressBurst={AddressBurst}", "--RateLimits:AddressRefill=1", "--RateLimits:Period=01:00:00");
        using var bad = server.NewHttp("berth_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        for (var i = 0; i < AddressBurst; i++)
        {
            using var refused = await (i % 2 == 0 ? bad : server.Anonymous).GetAsync("/api/v1/namespaces", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        foreach (var http in new[] { bad, server.Anonymous })
        {
            using var limited = await http.GetAsync("/api/v1/namespaces", Ct);
            await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
            Assert.NotNull(limited.Headers.RetryAfter);
        }

        foreach (var probe in new[] { "/healthz", "/readyz", "/metrics" })
        {
            using var answer = await server.Anonymous.GetAsync(probe, Ct);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        // A valid token has its own bucket.
        using var admin = await server.Http.GetAsync("/api/v1/namespaces", Ct);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task UploadsAndDownloadsCountInTheirOwnBucketSoAPushOfManyFilesIsNotCutShort()
    {
        using var ci = await _server.AddUserAsync("ci-job");
        var files = Enumerable.Range(0, 2 * TokenBurst).Select(i => ($"part-{i:D3}.bin", 16 + i)).ToArray();
        using var model = new ModelFolder(files);
        var pushed = await ci.Client.PushAsync(model.Root, "ci-job", "many", new PushOptions(), cancellationToken: Ct);
        Assert.Equal(files.Length, pushed.Version.FileCount);

        var output = TempFolder.Create("berth-rate-pull");
        try
        {
            await ci.Client.PullAsync(Contracts.Naming.ModelReference.Parse("ci-job/many:1"), output, new PullOptions(), cancellationToken: Ct);
            ModelFolder.AssertSameTree(model.Root, output);
        }
        finally
        {
            TempFolder.Delete(output);
        }

        // The transfer bucket has a limit of its own.
        HttpResponseMessage? limited = null;
        for (var i = 0; i < TransferBurst && limited is null; i++)
        {
            var response = await ci.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/models/ci-space/many/versions/1/files/part-000.bin"), Ct);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        Assert.NotNull(limited.Headers.RetryAfter);
        limited.Dispose();
    }
}
