using System.Net;
using System.Net.Http.Json;
using System.Text;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Webhooks;

namespace Berth.Api.Tests;

/// <summary>
/// Webhooks against real local HTTP receivers: signatures, retries with backoff, timeouts, failure and automatic
/// disabling, redelivery, pings, address rules, and two replicas sharing one database never sending an attempt twice.
/// </summary>
public sealed class WebhookTests(WebhookTests.World world) : IClassFixture<WebhookTests.World>
{
    private const string Secret = "a-test-secret-of-some-length";
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(3);

    private TestServer Server => world.Server;
    private BerthClient Admin => Server.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Fast retries and short timeouts, so the tests see several attempts in a few seconds; the receivers listen on
    /// 127.0.0.1, which webhooks may call only when the operator permits it.
    /// </summary>
    public static string[] Settings =>
    [
        "--Webhooks:AllowedNetworks:0=127.0.0.1/32",
        $"--Webhooks:RetryDelay={RetryDelay}",
        "--Webhooks:MaxRetryDelay=00:00:05",
        $"--Webhooks:Timeout={AttemptTimeout}",
        "--Webhooks:MaxAttempts=3",
        "--Webhooks:DisableAfterFailures=2",
        "--Webhooks:PollInterval=00:00:00.050",
    ];

    public sealed class World : IAsyncLifetime
    {
        public TestServer Server { get; private set; } = null!;
        public TestUser Writer { get; private set; } = null!;
        private int _namespaces;

        public async ValueTask InitializeAsync()
        {
            Server = await TestServer.StartAsync(Settings);
            Writer = await Server.AddUserAsync("walt");
        }

        public async Task<string> NamespaceAsync()
        {
            var ns = "wh" + Interlocked.Increment(ref _namespaces);
            await Server.CreateNamespaceAsync(ns);
            await Server.Client.SetMemberAsync(ns, new SetMemberRequest(Roles.Writer, User: Writer.Name), TestContext.Current.CancellationToken);
            return ns;
        }

        public async ValueTask DisposeAsync()
        {
            Writer.Dispose();
            await Server.DisposeAsync();
        }
    }

    [Fact]
    public async Task ADeliveryIsSignedAndCarriesTheEvent()
    {
        var ns = await world.NamespaceAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        await Server.PushSmallAsync(ns, "fraud");
        var hook = await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(receiver.Url, Secret, [EventTypes.StageChanged], "fraud"), Ct);
        Assert.Null(hook.Secret); // given, so not echoed
        Assert.Equal([EventTypes.StageChanged], hook.Events);
        Assert.Equal(($"{ns}/fraud", true), (hook.Model, hook.Enabled));

        await Server.PushSmallAsync(ns, "churn"); // another model: filtered out
        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "staging", "ship it", cancellationToken: Ct);
        var calls = await receiver.WaitForAsync(c => c.Count >= 1);
        var call = Assert.Single(calls);

        Assert.Equal(EventTypes.StageChanged, call.EventType);
        Assert.Equal(EventTypes.StageChanged, call.Header("Berth-Event"));
        Assert.Equal(call.EventId.ToString(System.Globalization.CultureInfo.InvariantCulture), call.Header("Berth-Event-Id"));
        Assert.Equal("application/json; charset=utf-8", call.Header("Content-Type"));
        Assert.True(WebhookSignature.Verify(Secret, call.Header("Berth-Signature"), call.Body));
        var body = System.Text.Json.JsonDocument.Parse(call.Body).RootElement;
        Assert.Equal(($"{ns}/fraud", 1, "staging"), (body.GetProperty("model").GetString(), body.GetProperty("version").GetInt32(), body.GetProperty("after").GetProperty("stage").GetString()));

        var delivery = await WaitForDeliveryAsync(hook.Id, d => d.State == DeliveryStates.Succeeded);
        Assert.Equal((call.EventId, 1, 204), (delivery.EventId, delivery.AttemptCount, delivery.LastStatus));
        var detail = await Admin.GetDeliveryAsync(delivery.Id, Ct);
        var attempt = Assert.Single(detail.Attempts!);
        Assert.Equal((204, (string?)null, (string?)null), (attempt.Status, attempt.Error, attempt.Response));
        Assert.Equal(call.Header("Berth-Delivery"), delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void TheDocumentedVerificationRefusesForgedAndReplayedCalls()
    {
        var body = Encoding.UTF8.GetBytes("{\"id\":1,\"type\":\"stage.changed\"}");
        var now = DateTimeOffset.UtcNow;
        var header = WebhookSignature.Create(Secret, now, body);
        Assert.True(WebhookSignature.Verify(Secret, header, body, now: now));

        var modified = Encoding.UTF8.GetBytes("{\"id\":1,\"type\":\"stage.changed\" }");
        Assert.False(WebhookSignature.Verify(Secret, header, modified, now: now));
        Assert.False(WebhookSignature.Verify("another-secret-of-length", header, body, now: now));
        Assert.False(WebhookSignature.Verify(Secret, header, body, now: now.AddMinutes(6)));
        Assert.True(WebhookSignature.Verify(Secret, header, body, now: now.AddMinutes(4)));
        var old = WebhookSignature.Create(Secret, now.AddHours(-1), body);
        Assert.False(WebhookSignature.Verify(Secret, old, body, now: now));
        Assert.False(WebhookSignature.Verify(Secret, null, body, now: now));
        Assert.False(WebhookSignature.Verify(Secret, "t=abc,v1=00", body, now: now));
        Assert.False(WebhookSignature.Verify(Secret, header.Replace("v1=", "v1=zz", StringComparison.Ordinal), body, now: now));
    }

    [Fact]
    public async Task AReceiverThatFailsTwiceGetsExactlyOneSuccessfulDeliveryAfterBackoff()
    {
        var ns = await world.NamespaceAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var failures = 0;
        receiver.Respond = _ => Task.FromResult(Interlocked.Increment(ref failures) <= 2 ? 503 : 200);
        await Server.PushSmallAsync(ns, "fraud");
        var hook = await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(receiver.Url, Secret, [EventTypes.StageChanged]), Ct);

        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "staging", cancellationToken: Ct);
        var calls = await receiver.WaitForAsync(c => c.Any(x => x.Status == 200));
        var delivery = await WaitForDeliveryAsync(hook.Id, d => d.State == DeliveryStates.Succeeded);

        Assert.Equal([503, 503, 200], calls.Select(c => c.Status));
        Assert.Single(calls.Select(c => c.EventId).Distinct());
        var attempts = (await Admin.GetDeliveryAsync(delivery.Id, Ct)).Attempts!;
        Assert.Equal([503, 503, 200], attempts.Select(a => a.Status!.Value));
        // Backoff: the waits are at least 300 ms and 600 ms less 20 % jitter; the second one's minimum (480 ms) is above
        // anything the first could be drawn as (360 ms), so the doubling shows whatever the machine's load adds.
        var first = attempts[1].StartedAt - attempts[0].StartedAt;
        var second = attempts[2].StartedAt - attempts[1].StartedAt;
        Assert.True(first >= RetryDelay * 0.8, $"first wait {first}");
        Assert.True(second >= RetryDelay * 2 * 0.8, $"second wait {second}");
        Assert.Equal(0, (await Admin.GetWebhookAsync(hook.Id, Ct)).ConsecutiveFailures);
    }

    [Fact]
    public async Task AHangingReceiverTimesOutIsRetriedAndHoldsNobodyElseUp()
    {
        var ns = await world.NamespaceAsync();
        await using var hanging = await WebhookReceiver.StartAsync();
        await using var healthy = await WebhookReceiver.StartAsync();
        var hangs = 0;
        hanging.Respond = async context =>
        {
            if (Interlocked.Increment(ref hangs) == 1)
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            return 200;
        };
        await Server.PushSmallAsync(ns, "fraud");
        var slow = await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(hanging.Url, Secret, [EventTypes.StageChanged]), Ct);
        await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(healthy.Url, Secret, [EventTypes.StageChanged]), Ct);

        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "staging", cancellationToken: Ct);
        var served = (await healthy.WaitForAsync(c => c.Count == 1))[0];

        var delivery = await WaitForDeliveryAsync(slow.Id, d => d.State == DeliveryStates.Succeeded);
        var attempts = (await Admin.GetDeliveryAsync(delivery.Id, Ct)).Attempts!;
        Assert.Equal(2, attempts.Count);
        // The healthy receiver was served while the first attempt to the hanging one was still open.
        Assert.True(served.At < attempts[0].StartedAt.AddMilliseconds(attempts[0].DurationMs), "the healthy receiver waited for the hanging one");
        Assert.Null(attempts[0].Status);
        Assert.Equal(DeliveryErrors.Timeout, attempts[0].Error);
        Assert.Contains("timed out", attempts[0].Detail, StringComparison.Ordinal);
        Assert.InRange(attempts[0].DurationMs, AttemptTimeout.TotalMilliseconds * 0.9, AttemptTimeout.TotalMilliseconds * 5);
        Assert.Equal(200, attempts[1].Status);
    }

    [Fact]
    public async Task AnEndpointThatKeepsFailingIsDisabledWithAnEvent()
    {
        var ns = await world.NamespaceAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = _ => Task.FromResult(500);
        await Server.PushSmallAsync(ns, "fraud");
        var hook = await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(receiver.Url, Secret, [EventTypes.StageChanged]), Ct);

        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "staging", cancellationToken: Ct);
        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "production", cancellationToken: Ct);
        var disabled = await WaitForAsync(async () => await Admin.GetWebhookAsync(hook.Id, Ct), h => !h.Enabled);
        Assert.Contains("2 deliveries in a row failed after 3 attempts", disabled.DisabledReason, StringComparison.Ordinal);

        var deliveries = await Admin.ListDeliveriesAsync(hook.Id, cancellationToken: Ct).ToListAsync(Ct);
        Assert.All(deliveries, d => Assert.Equal((DeliveryStates.Failed, 3, 500), (d.State, d.AttemptCount, d.LastStatus)));
        Assert.Equal(6, receiver.Calls.Count);
        var events = (await Admin.ListEventsAsync(ns: ns, types: [EventTypes.WebhookDisabled], cancellationToken: Ct)).Items;
        var notice = Assert.Single(events);
        Assert.Equal((hook.Id, "system"), (notice.Data!.Value.GetProperty("webhook").GetInt64(), notice.Actor));

        // Events while it is disabled are not queued for it; enabled again (failure count reset), it gets the next one.
        receiver.Respond = _ => Task.FromResult(200);
        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "staging", cancellationToken: Ct);
        var enabled = await Admin.UpdateWebhookAsync(hook.Id, new UpdateWebhookRequest(Enabled: true), Ct);
        Assert.Equal((true, 0, (string?)null), (enabled.Enabled, enabled.ConsecutiveFailures, enabled.DisabledReason));
        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "production", cancellationToken: Ct);
        var calls = await receiver.WaitForAsync(c => c.Any(x => x.Status == 200));
        Assert.Equal(7, calls.Count);
        Assert.Equal("production", System.Text.Json.JsonDocument.Parse(calls[^1].Body).RootElement.GetProperty("after").GetProperty("stage").GetString());
    }

    [Fact]
    public async Task RedeliverySendsTheSameEventAgainAsANewDelivery()
    {
        var ns = await world.NamespaceAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        await Server.PushSmallAsync(ns, "fraud");
        var hook = await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(receiver.Url, Secret, [EventTypes.StageChanged]), Ct);
        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "staging", cancellationToken: Ct);
        var original = await WaitForDeliveryAsync(hook.Id, d => d.State == DeliveryStates.Succeeded);

        var again = await Admin.RedeliverAsync(original.Id, Ct);
        Assert.Equal((original.EventId, original.Id, DeliveryStates.Pending), (again.EventId, again.RedeliveryOf, again.State));
        var calls = await receiver.WaitForAsync(c => c.Count == 2);
        Assert.Equal(calls[0].EventId, calls[1].EventId);
        Assert.NotEqual(calls[0].Header("Berth-Delivery"), calls[1].Header("Berth-Delivery"));

        var missing = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.RedeliverAsync(999_999, Ct));
        Assert.Equal("delivery_not_found", missing.Code);
    }

    [Fact]
    public async Task ATestPingAnswersWithTheReceiversResponse()
    {
        var ns = await world.NamespaceAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var hook = await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(receiver.Url), Ct);
        Assert.StartsWith("whsec_", hook.Secret, StringComparison.Ordinal);
        Assert.Equal(["*"], hook.Events);

        var ping = await Admin.TestWebhookAsync(hook.Id, Ct);
        Assert.Equal((EventTypes.Ping, DeliveryStates.Succeeded, 204), (ping.EventType, ping.State, ping.LastStatus));
        var call = Assert.Single(receiver.Calls);
        Assert.Equal(EventTypes.Ping, call.EventType);
        Assert.True(WebhookSignature.Verify(hook.Secret!, call.Header("Berth-Signature"), call.Body));

        receiver.Respond = _ => Task.FromResult(410);
        var failed = await Admin.TestWebhookAsync(hook.Id, Ct);
        Assert.Equal((DeliveryStates.Failed, 410), (failed.State, failed.LastStatus));
        Assert.StartsWith("received", Assert.Single(failed.Attempts!).Response, StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.RedeliverAsync(failed.Id, Ct));
        Assert.Equal("conflict", refused.Code);
    }

    [Fact]
    public async Task OnlyServerAdministratorsSeeTheReceiversAnswerAndTheErrorsMessage()
    {
        var ns = await world.NamespaceAsync();
        using var nsAdmin = await Server.AddUserAsync(ns + "-admin", ns, Roles.Admin);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = _ => Task.FromResult(500);
        var hook = await nsAdmin.Client.CreateWebhookAsync(ns, new CreateWebhookRequest(receiver.Url, Secret), Ct);

        // The receiver answered with a body: the namespace admin sees the status and latency, not the body.
        var mine = await nsAdmin.Client.TestWebhookAsync(hook.Id, Ct);
        var seen = Assert.Single(mine.Attempts!);
        Assert.Equal((500, (string?)null, (string?)null, (string?)null), (seen.Status, seen.Error, seen.Response, seen.Detail));
        Assert.True(seen.DurationMs > 0);
        Assert.Null(Assert.Single((await nsAdmin.Client.GetDeliveryAsync(mine.Id, Ct)).Attempts!).Response);
        Assert.StartsWith("received", Assert.Single((await Admin.GetDeliveryAsync(mine.Id, Ct)).Attempts!).Response, StringComparison.Ordinal);
        Assert.StartsWith("received", Assert.Single((await Admin.TestWebhookAsync(hook.Id, Ct)).Attempts!).Response, StringComparison.Ordinal);

        // Nothing listens: a category, never the socket's words (which would make webhooks a port scanner).
        await nsAdmin.Client.UpdateWebhookAsync(hook.Id, new UpdateWebhookRequest(Url: $"http://127.0.0.1:{FreePort()}/hook"), Ct);
        var closed = await nsAdmin.Client.TestWebhookAsync(hook.Id, Ct);
        var refused = Assert.Single(closed.Attempts!);
        Assert.Equal(((int?)null, DeliveryErrors.ConnectionRefused, (string?)null, (string?)null), (refused.Status, refused.Error, refused.Detail, refused.Response));
        var detail = Assert.Single((await Admin.GetDeliveryAsync(closed.Id, Ct)).Attempts!).Detail;
        Assert.Contains("refused", detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RedirectsAreNotFollowed()
    {
        var ns = await world.NamespaceAsync();
        await using var target = await WebhookReceiver.StartAsync();
        await using var redirecting = await WebhookReceiver.StartAsync();
        redirecting.Respond = context =>
        {
            context.Response.Headers.Location = target.Url;
            return Task.FromResult(307);
        };
        var hook = await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(redirecting.Url, Secret), Ct);

        var ping = await Admin.TestWebhookAsync(hook.Id, Ct);
        Assert.Equal((DeliveryStates.Failed, 307), (ping.State, ping.LastStatus));
        Assert.Single(redirecting.Calls);
        Assert.Empty(target.Calls);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "forbidden_address")]
    [InlineData("http://[fe80::1]/hook", "forbidden_address")]
    [InlineData("http://0.0.0.0:8080/hook", "forbidden_address")]
    [InlineData("ftp://ci.example.test/hook", "invalid_webhook_url")]
    [InlineData("/relative/hook", "invalid_webhook_url")]
    [InlineData("http://user:pass@127.0.0.1/hook", "invalid_webhook_url")]
    [InlineData("http://no-such-host.invalid/hook", "forbidden_address")]
    public async Task WebhooksMayNotCallForbiddenOrInvalidAddresses(string url, string code)
    {
        var ns = await world.NamespaceAsync();
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(url, Secret), Ct));
        Assert.Equal((HttpStatusCode.BadRequest, code), (refused.Status, refused.Code));
        Assert.Empty(await Admin.ListWebhooksAsync(ns, Ct).ToListAsync(Ct));
    }

    [Theory]
    [InlineData("{\"url\":\"http://127.0.0.1:9/h\",\"events\":[\"stage.moved\"]}", "invalid_event_type")]
    [InlineData("{\"url\":\"http://127.0.0.1:9/h\",\"secret\":\"short\"}", "invalid_request")]
    [InlineData("{\"url\":\"http://127.0.0.1:9/h\",\"model\":\"no-such-model\"}", "model_not_found")]
    [InlineData("{\"url\":\"http://127.0.0.1:9/h\",\"model\":\"other/fraud\"}", "invalid_reference")]
    [InlineData("{\"url\":\"http://127.0.0.1:9/h\",\"extra\":1}", "unknown_field")]
    [InlineData("{\"url\":", "invalid_json")]
    public async Task BadWebhookRequestsAreRefused(string body, string code)
    {
        var ns = await world.NamespaceAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = await Server.Http.PostAsync($"/api/v1/namespaces/{ns}/webhooks", content, Ct);
        Assert.False(response.IsSuccessStatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<ProblemBody>(Ct))!.Code);
        Assert.Empty(await Admin.ListWebhooksAsync(ns, Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task OnlyNamespaceAdminsManageWebhooks()
    {
        var ns = await world.NamespaceAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => world.Writer.Client.CreateWebhookAsync(ns, new CreateWebhookRequest(receiver.Url, Secret), Ct));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        var hook = await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(receiver.Url, Secret), Ct);
        foreach (var call in new Func<Task>[]
        {
            () => world.Writer.Client.GetWebhookAsync(hook.Id, Ct),
            () => world.Writer.Client.UpdateWebhookAsync(hook.Id, new UpdateWebhookRequest(Enabled: false), Ct),
            () => world.Writer.Client.DeleteWebhookAsync(hook.Id, Ct),
            () => world.Writer.Client.TestWebhookAsync(hook.Id, Ct),
            () => world.Writer.Client.ListDeliveriesAsync(hook.Id, cancellationToken: Ct).ToListAsync(Ct).AsTask(),
        })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAsync<BerthProblemException>(call)).Status);
        }

        Assert.Empty(receiver.Calls);
        await Admin.DeleteWebhookAsync(hook.Id, Ct);
        Assert.Equal("webhook_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.GetWebhookAsync(hook.Id, Ct))).Code);
    }

    [Fact]
    public async Task AnOperatorCanRestrictWebhooksToItsOwnNetworks()
    {
        // The most specific network decides: everything is denied but 10.0.0.0/8, of which 10.9.0.0/16 is denied again.
        // Link-local addresses (cloud metadata) stay refused even when listed.
        await using var server = await TestServer.StartAsync(
            "--Webhooks:DeniedNetworks:0=0.0.0.0/0", "--Webhooks:DeniedNetworks:1=::/0", "--Webhooks:DeniedNetworks:2=10.9.0.0/16",
            "--Webhooks:AllowedNetworks:0=10.0.0.0/8", "--Webhooks:AllowedNetworks:1=169.254.0.0/16");
        await server.CreateNamespaceAsync("acme");
        foreach (var url in new[] { "http://93.184.215.14/hook", "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook", "http://10.9.1.1/hook", "http://127.0.0.1:9/hook", "http://169.254.169.254/" })
        {
            var refused = await Assert.ThrowsAsync<BerthProblemException>(() => server.Client.CreateWebhookAsync("acme", new CreateWebhookRequest(url, Secret), Ct));
            Assert.Equal("forbidden_address", refused.Code);
        }

        var allowed = await server.Client.CreateWebhookAsync("acme", new CreateWebhookRequest("http://10.1.2.3:9/hook", Secret), Ct);
        Assert.True(allowed.Enabled);
    }

    [Fact]
    public async Task TwoReplicasOnOneDatabaseNeverSendTheSameAttemptTwice()
    {
        // A second server process on the same data folder: both run delivery workers over the same database.
        await using var second = await TestServer.StartReplicaAsync(Server, Settings);
        var ns = await world.NamespaceAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        const int changes = 40;
        for (var i = 0; i < changes; i++)
        {
            await Admin.CreateModelAsync(ns, new CreateModelRequest($"m{i}"), Ct);
        }

        await Admin.CreateWebhookAsync(ns, new CreateWebhookRequest(receiver.Url, Secret, [EventTypes.ModelUpdated]), Ct);

        // Changes to different models, half through each replica, all at once.
        await Task.WhenAll(Enumerable.Range(0, changes).Select(i => (i % 2 == 0 ? Admin : second.Client)
            .UpdateModelAsync(ns, $"m{i}", new UpdateModelRequest(SetTags: new Dictionary<string, string> { ["round"] = "1" }), cancellationToken: Ct)));

        // Every delivery ends succeeded; the receiver got exactly as many calls as the server recorded attempts. An
        // attempt made by both replicas would show as an extra call: only one of them can record it.
        var hook = (await Admin.ListWebhooksAsync(ns, Ct).ToListAsync(Ct)).Single();
        var deliveries = await WaitForAsync(
            async () => await Admin.ListDeliveriesAsync(hook.Id, cancellationToken: Ct).ToListAsync(Ct),
            d => d.Count == changes && d.All(x => x.State == DeliveryStates.Succeeded));
        var calls = receiver.Calls;
        Assert.Equal(changes, deliveries.Select(d => d.EventId).Distinct().Count());
        Assert.Equal(deliveries.Sum(d => d.AttemptCount), calls.Count);
        Assert.Equal(changes, calls.Where(c => c.Status == 204).Select(c => c.EventId).Distinct().Count());
    }

    private async Task<DeliveryInfo> WaitForDeliveryAsync(long hookId, Func<DeliveryInfo, bool> condition) =>
        await WaitForAsync(async () => (await Admin.ListDeliveriesAsync(hookId, cancellationToken: Ct).ToListAsync(Ct)).FirstOrDefault(condition), d => d is not null) ?? throw new InvalidOperationException();

    /// <summary>Polls the API until <paramref name="condition"/> holds (the worker is asynchronous); fails after 30 s.</summary>
    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, "The webhook worker did not reach the expected state within 30 s.");
            await Task.Delay(25, Ct);
        }
    }
}
