using System.Net;
using System.Net.Http.Json;
using System.Text;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests;

/// <summary>
/// The outbox (every committed change is one event, in order; nothing for a change that rolled back), the polling
/// and Server-Sent Events readers, and deployment records.
/// </summary>
public sealed class EventTests(EventTests.World world) : IClassFixture<EventTests.World>
{
    private TestServer Server => world.Server;
    private BerthClient Admin => Server.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class World : IAsyncLifetime
    {
        public TestServer Server { get; private set; } = null!;
        public TestUser Writer { get; private set; } = null!;
        public TestUser Outsider { get; private set; } = null!;
        private int _namespaces;

        public async ValueTask InitializeAsync()
        {
            Server = await TestServer.StartAsync();
            await Server.CreateNamespaceAsync("elsewhere");
            Writer = await Server.AddUserAsync("wanda");
            Outsider = await Server.AddUserAsync("otto", "elsewhere", Roles.Reader);
        }

        public async Task<string> NamespaceAsync()
        {
            var ns = "ev" + Interlocked.Increment(ref _namespaces);
            await Server.CreateNamespaceAsync(ns);
            await Server.Client.SetMemberAsync(ns, new SetMemberRequest(Roles.Writer, User: Writer.Name), TestContext.Current.CancellationToken);
            return ns;
        }

        public async ValueTask DisposeAsync()
        {
            Writer.Dispose();
            Outsider.Dispose();
            await Server.DisposeAsync();
        }
    }

    [Fact]
    public async Task EveryCommittedChangeIsOneEventInOrder()
    {
        var ns = await world.NamespaceAsync();
        var start = (await Admin.ListEventsAsync(ns: ns, cancellationToken: Ct)).Next;
        await Server.PushSmallAsync(ns, "fraud", aliases: ["champion"]);
        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "staging", "looks good", cancellationToken: Ct);
        await Admin.UpdateVersionAsync(Versions.Ref(ns, "fraud", 1), new UpdateVersionRequest(SetTags: new Dictionary<string, string> { ["validated"] = "true" }), cancellationToken: Ct);

        var batch = await Admin.ListEventsAsync(start, ns: ns, cancellationToken: Ct);
        Assert.Equal(
            [EventTypes.ModelCreated, EventTypes.VersionCreated, EventTypes.VersionReady, EventTypes.AliasMoved, EventTypes.StageChanged, EventTypes.VersionUpdated],
            batch.Items.Select(e => e.Type));
        Assert.Equal(batch.Items.Select(e => e.Id).Order(), batch.Items.Select(e => e.Id));
        Assert.All(batch.Items, e => Assert.Equal((ns, $"{ns}/fraud", "admin"), (e.Namespace, e.Model, e.Actor)));

        var stage = batch.Items.Single(e => e.Type == EventTypes.StageChanged);
        Assert.Equal(1, stage.Version);
        Assert.Equal("staging", stage.After!.Value.GetProperty("stage").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, stage.Before!.Value.GetProperty("stage").ValueKind);
        Assert.Equal("looks good", stage.Data!.Value.GetProperty("comment").GetString());
        var alias = batch.Items.Single(e => e.Type == EventTypes.AliasMoved);
        Assert.Equal("champion", alias.Data!.Value.GetProperty("alias").GetString());
        var tags = batch.Items.Single(e => e.Type == EventTypes.VersionUpdated);
        Assert.Equal("true", tags.After!.Value.GetProperty("tags").GetProperty("validated").GetString());

        // The cursor: nothing new after Next (nor after Head, the newest event of any namespace); a type filter; a page.
        Assert.Empty((await Admin.ListEventsAsync(batch.Next, ns: ns, cancellationToken: Ct)).Items);
        Assert.True(batch.Head >= batch.Items[^1].Id);
        Assert.Empty((await Admin.ListEventsAsync(batch.Head, ns: ns, cancellationToken: Ct)).Items);
        var stages = await Admin.ListEventsAsync(start, ns: ns, types: [EventTypes.StageChanged], cancellationToken: Ct);
        Assert.Equal([stage.Id], stages.Items.Select(e => e.Id));
        Assert.Equal(batch.Next, stages.Next);
        var page = await Admin.ListEventsAsync(start, ns: ns, limit: 2, cancellationToken: Ct);
        Assert.Equal(batch.Items.Take(2).Select(e => e.Id), page.Items.Select(e => e.Id));
        Assert.Equal(page.Items[^1].Id, page.Next);
    }

    [Fact]
    public async Task AChangeThatIsRefusedEmitsNothing()
    {
        var ns = await world.NamespaceAsync();
        await Server.PushSmallAsync(ns, "fraud");
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(Gate: "metrics.auc >= 0.9"), Ct);
        var before = (await Admin.ListEventsAsync(ns: ns, cancellationToken: Ct)).Next;

        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "production", cancellationToken: Ct));
        Assert.Equal("gate_failed", refused.Code);
        var clash = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.CreateModelAsync(ns, new CreateModelRequest("fraud"), Ct));
        Assert.Equal("model_exists", clash.Code);

        Assert.Empty((await Admin.ListEventsAsync(before, ns: ns, cancellationToken: Ct)).Items);
    }

    [Fact]
    public async Task ReadersSeeOnlyTheNamespacesTheyMayRead()
    {
        var ns = await world.NamespaceAsync();
        await Server.PushSmallAsync(ns, "fraud");

        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => world.Outsider.Client.ListEventsAsync(ns: ns, cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.NotFound, "namespace_not_found"), (refused.Status, refused.Code));
        var everything = await world.Outsider.Client.ListEventsAsync(limit: 1000, cancellationToken: Ct);
        Assert.DoesNotContain(everything.Items, e => e.Namespace == ns);
        Assert.Contains((await world.Writer.Client.ListEventsAsync(ns: ns, cancellationToken: Ct)).Items, e => e.Namespace == ns);

        var anonymous = await Server.Anonymous.GetAsync("/api/v1/events", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Theory]
    [InlineData("/api/v1/events?since=-1", "invalid_cursor")]
    [InlineData("/api/v1/events?type=stage.moved", "invalid_event_type")]
    [InlineData("/api/v1/events?limit=0", "invalid_request")]
    [InlineData("/api/v1/events?model=Bad%20Name", "invalid_reference")]
    [InlineData("/api/v1/events?namespace=no-such-namespace", "namespace_not_found")]
    [InlineData("/api/v1/events/stream?type=nope", "invalid_event_type")]
    public async Task BadEventQueriesAreRefusedWithACode(string url, string code)
    {
        var response = await Server.Http.GetAsync(url, Ct);
        Assert.False(response.IsSuccessStatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<ProblemBody>(Ct))!.Code);
    }

    [Fact]
    public async Task TheStreamDeliversLiveEventsAndResumesAfterTheLastOne()
    {
        var ns = await world.NamespaceAsync();
        var start = (await Admin.ListEventsAsync(ns: ns, cancellationToken: Ct)).Next;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(TimeSpan.FromSeconds(30));
        var received = new List<EventInfo>();
        await using (var stream = Admin.StreamEventsAsync(start, ns: ns, cancellationToken: stop.Token).GetAsyncEnumerator(stop.Token))
        {
            // Events committed after the stream opened arrive on it.
            var first = stream.MoveNextAsync();
            await Server.PushSmallAsync(ns, "fraud");
            Assert.True(await first);
            received.Add(stream.Current);
            while (received.Count < 3)
            {
                Assert.True(await stream.MoveNextAsync());
                received.Add(stream.Current);
            }
        }

        Assert.Equal([EventTypes.ModelCreated, EventTypes.VersionCreated, EventTypes.VersionReady], received.Select(e => e.Type));

        // Resuming with Last-Event-ID after the second event gives the third and then the new ones, nothing before.
        await Admin.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "staging", cancellationToken: Ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events/stream?namespace={ns}");
        request.Headers.Add("Last-Event-ID", received[1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await Server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token), Encoding.UTF8);
        var ids = new List<string>();
        while (ids.Count < 2 && await reader.ReadLineAsync(stop.Token) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                ids.Add(line[4..]);
            }
        }

        var staged = (await Admin.ListEventsAsync(received[2].Id, ns: ns, cancellationToken: Ct)).Items.Single();
        Assert.Equal([received[2].Id.ToString(System.Globalization.CultureInfo.InvariantCulture), staged.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], ids);
    }

    [Fact]
    public async Task AStreamEndsWhenItsReaderIsDisabled()
    {
        await using var server = await TestServer.StartAsync("--Events:AccessCheckInterval=00:00:00.100", "--Events:Heartbeat=00:00:00.100");
        await server.CreateNamespaceAsync("kept");
        using var reader = await server.AddUserAsync("rhea", "kept", Roles.Reader);
        var head = (await server.Client.ListEventsAsync(limit: 1, cancellationToken: Ct)).Head;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await reader.Http.GetAsync($"/api/v1/events/stream?since={head}", HttpCompletionOption.ResponseHeadersRead, stop.Token);
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token), Encoding.UTF8);

        await server.Client.CreateModelAsync("kept", new CreateModelRequest("fraud"), Ct);
        Assert.Equal("kept/fraud", await NextEventModelAsync(lines, stop.Token));

        // Disabled: the server ends the stream by itself (the reader does not have to reconnect to be refused).
        await server.Client.UpdateUserAsync("rhea", new UpdateUserRequest(Disabled: true), Ct);
        while (await lines.ReadLineAsync(stop.Token) is not null)
        {
        }

        Assert.False(stop.IsCancellationRequested);
        var again = await reader.Http.GetAsync($"/api/v1/events/stream?since={head}", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
    }

    /// <summary>The model of the next event on an SSE stream (skipping heartbeats and the other fields).</summary>
    private static async Task<string?> NextEventModelAsync(StreamReader lines, CancellationToken cancellationToken)
    {
        while (await lines.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return System.Text.Json.JsonDocument.Parse(line[6..]).RootElement.GetProperty("model").GetString();
            }
        }

        throw new InvalidOperationException("The stream ended.");
    }

    [Fact]
    public async Task DeploymentRecordsSayWhereEachVersionRuns()
    {
        var ns = await world.NamespaceAsync();
        await Server.PushSmallAsync(ns, "fraud");
        await Server.PushSmallAsync(ns, "fraud");
        var start = (await Admin.ListEventsAsync(ns: ns, cancellationToken: Ct)).Next;

        await world.Writer.Client.RecordDeploymentAsync(Versions.Ref(ns, "fraud", 1), new RecordDeploymentRequest("prod-eu", DeploymentStatuses.Live, "https://scoring.example.test/eu"), Ct);
        await world.Writer.Client.RecordDeploymentAsync(Versions.Ref(ns, "fraud", 1), new RecordDeploymentRequest("prod-us", DeploymentStatuses.Live), Ct);
        var v1 = await Admin.GetVersionAsync(Versions.Ref(ns, "fraud", 1), cancellationToken: Ct);
        Assert.Equal([("prod-eu", "live", "https://scoring.example.test/eu"), ("prod-us", "live", null)], v1.Deployments!.Select(d => (d.Environment, d.Status, d.Endpoint)));

        // Version 2 going live in prod-eu retires version 1 there (and only there).
        var record = await world.Writer.Client.RecordDeploymentAsync(Versions.Ref(ns, "fraud", 2), new RecordDeploymentRequest("prod-eu", DeploymentStatuses.Deploying, Comment: "canary first"), Ct);
        Assert.Equal((2, "deploying", "wanda"), (record.Version, record.Status, record.Actor));
        await world.Writer.Client.RecordDeploymentAsync(Versions.Ref(ns, "fraud", 2), new RecordDeploymentRequest("prod-eu", DeploymentStatuses.Live), Ct);
        var versions = await Admin.ListVersionsAsync(ns, "fraud", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(["prod-us:live"], versions.Single(v => v.Number == 1).Deployments!.Select(d => $"{d.Environment}:{d.Status}"));
        Assert.Equal(["prod-eu:live"], versions.Single(v => v.Number == 2).Deployments!.Select(d => $"{d.Environment}:{d.Status}"));

        var history = await Admin.ListDeploymentsAsync(ns, "fraud", environment: "prod-eu", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal([(2, "live"), (2, "deploying"), (1, "retired"), (1, "live")], history.Select(d => (d.Version, d.Status)));
        var events = (await Admin.ListEventsAsync(start, ns: ns, types: [EventTypes.DeploymentRecorded], cancellationToken: Ct)).Items;
        Assert.Equal(5, events.Count);
        Assert.Equal("replaced by " + ns + "/fraud:2", events.Single(e => e.After!.Value.GetProperty("status").GetString() == "retired").Data!.Value.GetProperty("comment").GetString());

        await world.Writer.Client.RecordDeploymentAsync(Versions.Ref(ns, "fraud", 2), new RecordDeploymentRequest("prod-eu", DeploymentStatuses.Retired), Ct);
        Assert.Empty((await Admin.GetVersionAsync(Versions.Ref(ns, "fraud", 2), cancellationToken: Ct)).Deployments!);
    }

    [Theory]
    [InlineData("{\"environment\":\"Prod EU\",\"status\":\"live\"}", "invalid_deployment")]
    [InlineData("{\"environment\":\"prod\",\"status\":\"running\"}", "invalid_deployment")]
    [InlineData("{\"environment\":\"prod\",\"status\":\"live\",\"endpoint\":\"not a url\"}", "invalid_deployment")]
    [InlineData("{\"environment\":\"prod\"}", "invalid_json")]
    public async Task BadDeploymentRecordsAreRefused(string body, string code)
    {
        var ns = await world.NamespaceAsync();
        await Server.PushSmallAsync(ns, "fraud");
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = await world.Writer.Http.PostAsync($"/api/v1/models/{ns}/fraud/versions/1/deployments", content, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<ProblemBody>(Ct))!.Code);
        Assert.Empty(await Admin.ListDeploymentsAsync(ns, "fraud", cancellationToken: Ct).ToListAsync(Ct));

        var outsider = await Assert.ThrowsAsync<BerthProblemException>(() => world.Outsider.Client.RecordDeploymentAsync(Versions.Ref(ns, "fraud", 1), new RecordDeploymentRequest("prod", "live"), Ct));
        Assert.Equal((HttpStatusCode.NotFound, "namespace_not_found"), (outsider.Status, outsider.Code));
    }
}
