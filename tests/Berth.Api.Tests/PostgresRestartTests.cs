using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Berth.Api.Tests;

/// <summary>
/// PostgreSQL restarted while Berth is serving: during the outage every request that needs the database fails at once
/// with 503 <c>service_unavailable</c> (and <c>Retry-After</c>), readiness says so and liveness does not; when the
/// database is back, Berth serves again by itself, without a restart, with nothing lost. The test stops and starts a
/// PostgreSQL server of its own (<see cref="ThrowawayPostgres"/>), never the one the rest of the suite shares, so it
/// runs the same on both legs of <c>scripts/test.sh</c>.
/// </summary>
public sealed class PostgresRestartTests
{
    /// <summary>A request during the outage must be answered well within this: a refused connection is no reason to wait.</summary>
    private static readonly TimeSpan OutageAnswerLimit = TimeSpan.FromSeconds(10);

    /// <summary>How long Berth may take to serve again once PostgreSQL accepts connections.</summary>
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("fast")]
    [InlineData("immediate")]
    public async Task RequestsGet503WhilePostgresIsDownAndSucceedAgainOnceItIsBackWithoutRestartingBerth(string shutdownMode)
    {
        await using var postgres = await ThrowawayPostgres.StartAsync(Ct);
        await using var database = await TestDatabase.CreateOnAsync(postgres.ConnectionString, Ct);
        await using var server = await TestServer.StartOnAsync(database, "--Webhooks:AllowedNetworks:0=127.0.0.1/32"); // the receiver's address
        await using var receiver = await WebhookReceiver.StartAsync();
        var admin = server.Client;

        // Before: a version with a file, and a webhook that has delivered its event.
        using var first = new ModelFolder(("weights.bin", 300_000), ("config.json", 200));
        var pushed = await admin.PushAsync(first.Root, "ops", "fraud", new PushOptions { Aliases = ["champion"] }, cancellationToken: Ct);
        var hook = await admin.CreateWebhookAsync("ops", new CreateWebhookRequest(receiver.Url, Events: [EventTypes.VersionReady]), Ct);
        using var other = new ModelFolder(("weights.bin", 1000));
        await admin.PushAsync(other.Root, "ops", "churn", new PushOptions(), cancellationToken: Ct);
        await receiver.WaitForAsync(calls => calls.Any(c => Model(c) == "ops/churn"));

        // The outage.
        await postgres.StopAsync(shutdownMode, Ct);
        using (var probe = server.NewHttp(null))
        {
            // Liveness does not depend on the database (an orchestrator must not restart replicas for it); readiness does.
            Assert.Equal("ok\n", await probe.GetStringAsync("/healthz", Ct));
            using var ready = await AnsweredInTimeAsync(() => probe.GetAsync("/readyz", Ct));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            using var readiness = JsonDocument.Parse(await ready.Content.ReadAsStringAsync(Ct));
            Assert.Equal(("unavailable", "unreachable", "ok"), (Text(readiness, "status"), Text(readiness, "database"), Text(readiness, "blobStore")));
        }

        // Every pooled connection is dead now: each of these requests may draw one, and each must still be a clean 503.
        for (var round = 0; round < 4; round++)
        {
            await AssertUnavailableAsync(await AnsweredInTimeAsync(() => server.Http.GetAsync("/api/v1/models/ops/fraud/versions/champion", Ct)));
            await AssertUnavailableAsync(await AnsweredInTimeAsync(() => server.Http.GetAsync("/api/v1/models/ops/fraud/versions/1/files/weights.bin", Ct)));
            await AssertUnavailableAsync(await AnsweredInTimeAsync(() => server.Http.SendJsonAsync(HttpMethod.Patch, "/api/v1/models/ops/fraud/versions/1", """{"tags":{"outage":"yes"}}""", Ct)));
            await AssertUnavailableAsync(await AnsweredInTimeAsync(() => server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/ops/fraud/versions",
                Http.CreateVersionJson(ModelFolder.Sha256(ModelFolder.Bytes(64, round)), 64), Ct)));
        }

        // The SDK retries a few times, then reports the outage with its code.
        using var second = new ModelFolder(("weights.bin", 200_000));
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => admin.PushAsync(second.Root, "ops", "fraud", new PushOptions(), cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "service_unavailable"), (refused.Status, refused.Code));

        // PostgreSQL is back, on the same port; Berth was never restarted.
        await postgres.StartServerAsync(Ct);
        var lifetime = server.Services.GetRequiredService<IHostApplicationLifetime>();
        var failuresAfterRestart = await PollUntilServingAsync(server.Http);
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "Berth stopped itself during the outage.");
        // The requests during the outage already found the pool's connections dead (and Npgsql dropped them).
        Assert.True(failuresAfterRestart == 0, $"{failuresAfterRestart} requests failed after PostgreSQL was back.");

        using (var probe = server.NewHttp(null))
        {
            using var ready = await probe.GetAsync("/readyz", Ct);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        // Nothing lost: the version from before is intact (files byte for byte, alias, digest), and nothing from the outage half-exists.
        var before = await admin.GetVersionAsync(ModelReference.Parse("ops/fraud:champion"), cancellationToken: Ct);
        Assert.Equal((1, pushed.Version.ManifestDigest, "ready"), (before.Number, before.ManifestDigest, before.State));
        Assert.Equal(["champion"], before.Aliases);
        Assert.False(before.Tags.ContainsKey("outage"));
        var output = TempFolder.Create("berth-pg-restart-pull");
        try
        {
            var pulled = await admin.PullAsync(ModelReference.Parse("ops/fraud:1"), output, new PullOptions(), cancellationToken: Ct);
            Assert.Equal(2, pulled.FilesDownloaded);
            foreach (var file in new[] { "weights.bin", "config.json" })
            {
                Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(first.Root, file), Ct), await File.ReadAllBytesAsync(Path.Combine(output, file), Ct));
            }
        }
        finally
        {
            TempFolder.Delete(output);
        }

        // Writes work again: the push refused during the outage succeeds now, as the next version.
        var after = await admin.PushAsync(second.Root, "ops", "fraud", new PushOptions(), cancellationToken: Ct);
        Assert.Equal(2, after.Version.Number);
        var versions = await (await server.Http.GetAsync("/api/v1/models/ops/fraud/versions", Ct)).ReadAsync(Berth.Contracts.Json.BerthJsonContext.Default.PageVersionInfo);
        Assert.Equal([2, 1], versions.Items.Select(v => v.Number));

        // The webhook worker outlived the outage: the new version's event is delivered.
        var calls = await receiver.WaitForAsync(c => c.Any(call => Model(call) == "ops/fraud" && Number(call) == 2));
        Assert.Single(calls, c => Model(c) == "ops/fraud" && Number(c) == 2);
        Assert.True((await admin.GetWebhookAsync(hook.Id, Ct)).Enabled);
    }

    /// <summary>
    /// An outage no request noticed leaves the pool full of connections the restart closed. Requests that draw one
    /// get a clean 503 (never a 500, never a hang); the first broken connection makes Npgsql drop the pool's others,
    /// so the requests after them succeed.
    /// </summary>
    [Theory]
    [InlineData("fast")]
    [InlineData("immediate")]
    public async Task AfterAnOutageNobodyNoticedRequestsOnClosedConnectionsGet503AndTheNextOnesSucceed(string shutdownMode)
    {
        await using var postgres = await ThrowawayPostgres.StartAsync(Ct);
        await using var database = await TestDatabase.CreateOnAsync(postgres.ConnectionString, Ct);
        await using var server = await TestServer.StartOnAsync(database);
        using var first = new ModelFolder(("weights.bin", 3000));
        await server.Client.PushAsync(first.Root, "ops", "fraud", new PushOptions { Aliases = ["champion"] }, cancellationToken: Ct);
        const string Url = "/api/v1/models/ops/fraud/versions/champion";
        // Requests at once leave many idle connections in the pool.
        foreach (var response in await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => server.Http.GetAsync(Url, Ct))))
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        await postgres.StopAsync(shutdownMode, Ct);
        await postgres.StartServerAsync(Ct);

        var burst = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => AnsweredInTimeAsync(() => server.Http.GetAsync(Url, Ct))));
        foreach (var response in burst)
        {
            if (response.StatusCode == HttpStatusCode.OK)
            {
                response.Dispose();
            }
            else
            {
                await AssertUnavailableAsync(response);
            }
        }

        using var next = await server.Http.GetAsync(Url, Ct);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        using var pull = await server.Http.GetAsync("/api/v1/models/ops/fraud/versions/1/files/weights.bin", Ct);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(first.Root, "weights.bin"), Ct), await pull.Content.ReadAsByteArrayAsync(Ct));
    }

    /// <summary>
    /// Polls a read until it succeeds; every failure before must be a clean 503. Returns how many failed.
    /// </summary>
    private static async Task<int> PollUntilServingAsync(HttpClient http)
    {
        var deadline = Stopwatch.StartNew();
        var failures = 0;
        while (true)
        {
            var response = await AnsweredInTimeAsync(() => http.GetAsync("/api/v1/models/ops/fraud/versions/champion", Ct));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                response.Dispose();
                return failures;
            }

            await AssertUnavailableAsync(response);
            failures++;
            Assert.True(deadline.Elapsed < RecoveryDeadline, $"Berth did not serve again within {RecoveryDeadline.TotalSeconds} s of PostgreSQL accepting connections ({failures} requests failed).");
            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
        }
    }

    private static async Task<HttpResponseMessage> AnsweredInTimeAsync(Func<Task<HttpResponseMessage>> request)
    {
        var watch = Stopwatch.StartNew();
        var response = await request().WaitAsync(OutageAnswerLimit * 3, Ct);
        Assert.True(watch.Elapsed < OutageAnswerLimit, $"The request took {watch.Elapsed.TotalSeconds:F1} s to answer {(int)response.StatusCode}.");
        return response;
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response)
    {
        using (response)
        {
            await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "service_unavailable");
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        }
    }

    private static string? Text(JsonDocument document, string name) => document.RootElement.GetProperty(name).GetString();

    private static string? Model(ReceivedCall call) => JsonDocument.Parse(call.Body).RootElement.GetProperty("model").GetString();

    private static int Number(ReceivedCall call) => JsonDocument.Parse(call.Body).RootElement.GetProperty("version").GetInt32();
}
