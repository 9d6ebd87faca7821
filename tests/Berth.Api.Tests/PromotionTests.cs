using System.Net;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Api.Tests;

/// <summary>
/// Stage policies (custom stages, exclusive, protected, gated), transition requests and their reviews,
/// protected aliases, and the history that answers "what held this stage when".
/// </summary>
public sealed class PromotionTests(PromotionTests.World world) : IClassFixture<PromotionTests.World>
{
    private TestServer Server => world.Server;
    private BerthClient Admin => Server.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>One server with a writer (alice), two approvers (bob, carol), a reader and an approver of another namespace.</summary>
    public sealed class World : IAsyncLifetime
    {
        public TestServer Server { get; private set; } = null!;
        public TestUser Alice { get; private set; } = null!;
        public TestUser Bob { get; private set; } = null!;
        public TestUser Carol { get; private set; } = null!;
        public TestUser Reader { get; private set; } = null!;
        public TestUser Stranger { get; private set; } = null!;
        private int _namespaces;

        public async ValueTask InitializeAsync()
        {
            Server = await TestServer.StartAsync();
            await Server.CreateNamespaceAsync("other");
            Alice = await Server.AddUserAsync("alice");
            Bob = await Server.AddUserAsync("bob");
            Carol = await Server.AddUserAsync("carol");
            Reader = await Server.AddUserAsync("rita");
            Stranger = await Server.AddUserAsync("stan", "other", Roles.Approver);
        }

        /// <summary>A fresh namespace with the cast's roles in it.</summary>
        public async Task<string> NamespaceAsync()
        {
            var ns = "acme" + Interlocked.Increment(ref _namespaces);
            await Server.CreateNamespaceAsync(ns);
            foreach (var (user, role) in new[] { (Alice, Roles.Writer), (Bob, Roles.Approver), (Carol, Roles.Approver), (Reader, Roles.Reader) })
            {
                await Server.Client.SetMemberAsync(ns, new SetMemberRequest(role, User: user.Name), TestContext.Current.CancellationToken);
            }

            return ns;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var user in new[] { Alice, Bob, Carol, Reader, Stranger })
            {
                user.Dispose();
            }

            await Server.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnExclusiveStageArchivesItsPreviousHolderInTheSameChange()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(Exclusive: true), Ct);
        await PushAsync(ns, "fraud", 3);

        await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "production", "first", cancellationToken: Ct);
        var second = await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 2), "production", "better", cancellationToken: Ct);
        Assert.Equal((TransitionOutcomes.Applied, "production"), (second.Outcome, second.Version.Stage));
        Assert.Equal([(1, "archived"), (2, "production"), (3, null)], await StagesAsync(ns, "fraud"));

        var unchanged = await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 2), "production", cancellationToken: Ct);
        Assert.Equal(TransitionOutcomes.Unchanged, unchanged.Outcome);

        var history = await Admin.GetHistoryAsync(ns, "fraud", kind: "stage", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(
            [(1, null, "production"), (1, "production", "archived"), (2, null, "production")],
            history.Select(h => (h.Version, h.FromStage, h.ToStage)).ToList());
        Assert.Contains("entered exclusive stage", history[1].Comment, StringComparison.Ordinal);
        Assert.Equal(history[1].At, history[2].At);
    }

    [Fact]
    public async Task CustomStagesFollowTheirPositionAndModelsCanOverrideTheNamespacePolicy()
    {
        var ns = await world.NamespaceAsync();
        var policy = await Admin.SetStageRuleAsync(ns, null, "shadow", new SetStageRuleRequest(Position: 2), Ct);
        Assert.Equal(["development", "staging", "shadow", "production", "archived"], policy.Stages.Select(s => s.Stage));
        await PushAsync(ns, "fraud", 1);
        await PushAsync(ns, "churn", 1);
        Assert.Equal(TransitionOutcomes.Applied, (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "shadow", cancellationToken: Ct)).Outcome);

        var own = await Admin.SetStageRuleAsync(ns, "churn", "canary", new SetStageRuleRequest(Position: 0), Ct);
        Assert.False(own.Inherited);
        Assert.Equal(["canary", "development", "staging", "shadow", "production", "archived"], own.Stages.Select(s => s.Stage));
        Assert.True((await Admin.GetPolicyAsync(ns, "fraud", Ct)).Inherited);
        var notThere = await Assert.ThrowsAsync<BerthProblemException>(() => world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "canary", cancellationToken: Ct));
        Assert.Equal("invalid_stage", notThere.Code);
        Assert.Contains("shadow", notThere.Message, StringComparison.Ordinal);

        var inUse = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.RemoveStageRuleAsync(ns, null, "shadow", Ct));
        Assert.Equal((HttpStatusCode.Conflict, "stage_in_use"), (inUse.Status, inUse.Code));
        Assert.Equal("stage_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.RemoveStageRuleAsync(ns, null, "nope", Ct))).Code);
        var reset = await Admin.ResetModelPolicyAsync(ns, "churn", Ct);
        Assert.True(reset.Inherited);
        Assert.DoesNotContain("canary", reset.Stages.Select(s => s.Stage));

        await Admin.SetAliasAsync(ns, "fraud", "champion", "1", cancellationToken: Ct);
        var clash = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.SetStageRuleAsync(ns, null, "champion", new SetStageRuleRequest(), Ct));
        Assert.Equal("name_conflict", clash.Code);
    }

    [Fact]
    public async Task APolicyKeepsAtLeastOneStage()
    {
        var ns = await world.NamespaceAsync();
        foreach (var stage in new[] { "development", "staging", "production" })
        {
            await Admin.RemoveStageRuleAsync(ns, null, stage, Ct);
        }

        var last = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.RemoveStageRuleAsync(ns, null, "archived", Ct));
        Assert.Equal((HttpStatusCode.Conflict, "conflict"), (last.Status, last.Code));
        Assert.Equal(["archived"], (await Admin.GetPolicyAsync(ns, cancellationToken: Ct)).Stages.Select(s => s.Stage));
    }

    [Fact]
    public async Task TwoAdministratorsRemovingTheLastTwoStagesAtOnceLeaveOne()
    {
        for (var round = 0; round < 5; round++)
        {
            var ns = await world.NamespaceAsync();
            await Admin.RemoveStageRuleAsync(ns, null, "development", Ct);
            await Admin.RemoveStageRuleAsync(ns, null, "staging", Ct);
            using var first = Server.NewClient(Server.AdminToken);
            using var second = Server.NewClient(Server.AdminToken);

            var outcomes = await Task.WhenAll(
                OutcomeAsync(() => first.RemoveStageRuleAsync(ns, null, "production", Ct)),
                OutcomeAsync(() => second.RemoveStageRuleAsync(ns, null, "archived", Ct)));

            Assert.Equal(["conflict", "removed"], outcomes.Order(StringComparer.Ordinal));
            Assert.Single((await Admin.GetPolicyAsync(ns, cancellationToken: Ct)).Stages);
        }

        static async Task<string> OutcomeAsync(Func<Task> remove)
        {
            try
            {
                await remove();
                return "removed";
            }
            catch (BerthProblemException e)
            {
                return e.Code;
            }
        }
    }

    [Fact]
    public async Task StagesAddedAtOnceGetDistinctPositions()
    {
        var ns = await world.NamespaceAsync();
        var clients = Enumerable.Range(0, 4).Select(_ => Server.NewClient(Server.AdminToken)).ToList();
        try
        {
            await Task.WhenAll(clients.Select((client, i) => client.SetStageRuleAsync(ns, null, $"canary-{i}", new SetStageRuleRequest(), Ct)));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        var stages = (await Admin.GetPolicyAsync(ns, cancellationToken: Ct)).Stages;
        Assert.Equal(8, stages.Count);
        Assert.Equal(Enumerable.Range(0, 8), stages.Select(s => s.Position));
        Assert.Equal("archived", stages[^1].Stage);
    }

    [Fact]
    public async Task AProtectedStageNeedsApprovalsFromApproversOtherThanTheRequester()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(Exclusive: true, RequiredApprovals: 2, Gate: "metrics.auc >= 0.92"), Ct);
        await Admin.SetMemberAsync(ns, new SetMemberRequest(Roles.Approver, User: "alice"), Ct);
        await PushAsync(ns, "fraud", 1, auc: 0.9);
        await PushAsync(ns, "fraud", 1, auc: 0.934);

        using (var raw = await world.Alice.Http.SendJsonAsync(HttpMethod.Put, $"/api/v1/models/{ns}/fraud/versions/2/stage", """{"stage":"production","comment":"better recall on Q3 data"}""", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, raw.StatusCode);
            Assert.StartsWith("/api/v1/requests/", raw.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }

        var opened = Assert.Single(await world.Bob.Client.ListRequestsAsync(ns, cancellationToken: Ct).ToListAsync(Ct));
        Assert.Equal((2, "stage", "production", RequestStates.Open, 2, 0, "alice", "better recall on Q3 data"),
            (opened.Version, opened.Kind, opened.Stage, opened.State, opened.RequiredApprovals, opened.Approvals, opened.Requester, opened.Comment));
        Assert.True(opened.Gate!.Passed);
        Assert.Contains("0.934", opened.Gate.Summary, StringComparison.Ordinal);
        Assert.Null((await Admin.GetVersionAsync(Ref(ns, "fraud", 2), cancellationToken: Ct)).Stage);

        var self = await Assert.ThrowsAsync<BerthProblemException>(() => world.Alice.Client.ApproveRequestAsync(opened.Id, cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.Forbidden, "self_approval"), (self.Status, self.Code));
        var reader = await Assert.ThrowsAsync<BerthProblemException>(() => world.Reader.Client.ApproveRequestAsync(opened.Id, cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (reader.Status, reader.Code));
        // An approver of another namespace may not even see the request: it is as if it did not exist.
        var stranger = await Assert.ThrowsAsync<BerthProblemException>(() => world.Stranger.Client.ApproveRequestAsync(opened.Id, cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.NotFound, "request_not_found"), (stranger.Status, stranger.Code));

        var first = await world.Bob.Client.ApproveRequestAsync(opened.Id, "reviewed eval report", Ct);
        Assert.Equal((RequestStates.Open, 1), (first.State, first.Approvals));
        var twice = await Assert.ThrowsAsync<BerthProblemException>(() => world.Bob.Client.ApproveRequestAsync(opened.Id, cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.Conflict, "already_reviewed"), (twice.Status, twice.Code));
        Assert.Null((await Admin.GetVersionAsync(Ref(ns, "fraud", 2), cancellationToken: Ct)).Stage);

        var applied = await world.Carol.Client.ApproveRequestAsync(opened.Id, "lgtm", Ct);
        Assert.Equal((RequestStates.Applied, 2, "carol"), (applied.State, applied.Approvals, applied.ClosedBy));
        Assert.Equal([("bob", "approve", "reviewed eval report"), ("carol", "approve", "lgtm")], applied.Reviews.Select(r => (r.Reviewer, r.Decision, r.Comment)));
        Assert.Equal("production", (await Admin.GetVersionAsync(Ref(ns, "fraud", 2), cancellationToken: Ct)).Stage);

        var closed = await Assert.ThrowsAsync<BerthProblemException>(() => world.Bob.Client.RejectRequestAsync(opened.Id, "too late", Ct));
        Assert.Equal((HttpStatusCode.Conflict, "request_closed"), (closed.Status, closed.Code));

        var history = await Admin.GetHistoryAsync(ns, "fraud", cancellationToken: Ct).ToListAsync(Ct);
        var story = history.Where(h => h.RequestId == opened.Id).Select(h => (h.Kind, h.Event, h.Actor)).ToList();
        Assert.Equal([("request", "opened", "alice"), ("request", "approved", "bob"), ("request", "approved", "carol"), ("stage", null, "carol"), ("request", "applied", "carol")], story);
        Assert.Equal("better recall on Q3 data", history.Single(h => h.Kind == "stage" && h.RequestId == opened.Id).Comment);
    }

    [Fact]
    public async Task RequestsCanBeRejectedOrCancelledAndNothingChanges()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(RequiredApprovals: 1), Ct);
        await PushAsync(ns, "fraud", 2);

        var rejected = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "production", cancellationToken: Ct)).Request!;
        var done = await world.Bob.Client.RejectRequestAsync(rejected.Id, "no fairness eval", Ct);
        Assert.Equal((RequestStates.Rejected, "no fairness eval", "bob"), (done.State, done.CloseReason, done.ClosedBy));
        Assert.Null((await Admin.GetVersionAsync(Ref(ns, "fraud", 1), cancellationToken: Ct)).Stage);
        var story = (await Admin.GetHistoryAsync(ns, "fraud", kind: "request", cancellationToken: Ct).ToListAsync(Ct)).Where(h => h.RequestId == rejected.Id);
        Assert.Equal([("opened", "alice", (string?)null), ("rejected", "bob", "no fairness eval")], story.Select(h => (h.Event!, h.Actor, h.Comment)));

        var cancelled = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 2), "production", cancellationToken: Ct)).Request!;
        var byOther = await Assert.ThrowsAsync<BerthProblemException>(() => world.Bob.Client.CancelRequestAsync(cancelled.Id, cancellationToken: Ct));
        Assert.Equal("forbidden", byOther.Code);
        Assert.Equal(RequestStates.Cancelled, (await world.Alice.Client.CancelRequestAsync(cancelled.Id, "wrong version", Ct)).State);
        Assert.Equal("request_closed", (await Assert.ThrowsAsync<BerthProblemException>(() => world.Bob.Client.ApproveRequestAsync(cancelled.Id, cancellationToken: Ct))).Code);

        var byAdmin = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 2), "production", cancellationToken: Ct)).Request!;
        Assert.Equal(RequestStates.Cancelled, (await Admin.CancelRequestAsync(byAdmin.Id, cancellationToken: Ct)).State);
        Assert.Equal("request_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => world.Bob.Client.ApproveRequestAsync(987654, cancellationToken: Ct))).Code);

        var all = await Admin.ListRequestsAsync(ns, "all", Ct).ToListAsync(Ct);
        Assert.Equal([RequestStates.Rejected, RequestStates.Cancelled, RequestStates.Cancelled], all.Select(r => r.State));
        Assert.Empty(await Admin.ListRequestsAsync(ns, cancellationToken: Ct).ToListAsync(Ct));
        Assert.Equal("invalid_request", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.ListRequestsAsync(ns, "pending", Ct).ToListAsync(Ct).AsTask())).Code);
    }

    [Fact]
    public async Task AReaderCannotRequestATransitionAndAnOutsiderCannotSeeRequests()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(RequiredApprovals: 1), Ct);
        await PushAsync(ns, "fraud", 1);
        var denied = await Assert.ThrowsAsync<BerthProblemException>(() => world.Reader.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "production", cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (denied.Status, denied.Code));
        Assert.Empty(await Admin.ListRequestsAsync(ns, "all", Ct).ToListAsync(Ct));

        var opened = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "production", cancellationToken: Ct)).Request!;
        Assert.DoesNotContain(await world.Stranger.Client.ListRequestsAsync(cancellationToken: Ct).ToListAsync(Ct), r => r.Id == opened.Id);
        Assert.Equal("request_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => world.Stranger.Client.GetRequestAsync(opened.Id, Ct))).Code);
        Assert.Contains(await world.Reader.Client.ListRequestsAsync(cancellationToken: Ct).ToListAsync(Ct), r => r.Id == opened.Id);
    }

    [Fact]
    public async Task AFailingGateRefusesTheChangeWithTheFailingClauseAndTheActualValues()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "staging", new SetStageRuleRequest(Gate: "metrics.auc >= 0.85 and tags.validated = \"true\""), Ct);
        await PushAsync(ns, "fraud", 1, auc: 0.8);

        using var response = await world.Alice.Http.SendJsonAsync(HttpMethod.Put, $"/api/v1/models/{ns}/fraud/versions/1/stage", """{"stage":"staging"}""", Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict, "gate_failed");
        Assert.Equal("metrics.auc >= 0.85 and tags.validated = \"true\"", problem.GetProperty("gate").GetString());
        var failures = problem.GetProperty("failures").EnumerateArray().Select(f => (f.GetProperty("clause").GetString(), f.GetProperty("actual").GetString())).ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.Item1 == "metrics.auc >= 0.85" && f.Item2!.Contains("0.8", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Item1!.StartsWith("tags.validated", StringComparison.Ordinal) && f.Item2!.Contains("missing", StringComparison.Ordinal));
        Assert.Contains("0.8", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Null((await Admin.GetVersionAsync(Ref(ns, "fraud", 1), cancellationToken: Ct)).Stage);

        await Admin.UpdateVersionAsync(Ref(ns, "fraud", 1), new UpdateVersionRequest(SetTags: new Dictionary<string, string> { ["validated"] = "true" }), cancellationToken: Ct);
        var stillLow = await Assert.ThrowsAsync<BerthProblemException>(() => world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "staging", cancellationToken: Ct));
        Assert.Equal("gate_failed", stillLow.Code);
        Assert.DoesNotContain("validated", stillLow.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheGateIsCheckedAgainWhenARequestIsApplied()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(RequiredApprovals: 1, Gate: "tags.validated = \"true\""), Ct);
        await PushAsync(ns, "fraud", 1, tags: new Dictionary<string, string> { ["validated"] = "true" });
        var opened = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "production", cancellationToken: Ct)).Request!;
        Assert.True(opened.Gate!.Passed);

        await world.Alice.Client.UpdateVersionAsync(Ref(ns, "fraud", 1), new UpdateVersionRequest(SetTags: new Dictionary<string, string> { ["validated"] = "false" }), cancellationToken: Ct);
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => world.Bob.Client.ApproveRequestAsync(opened.Id, cancellationToken: Ct));
        Assert.Equal("gate_failed", refused.Code);
        Assert.Contains("false", refused.Message, StringComparison.Ordinal);
        var still = await Admin.GetRequestAsync(opened.Id, Ct);
        Assert.Equal((RequestStates.Open, 0), (still.State, still.Approvals));
        Assert.Null((await Admin.GetVersionAsync(Ref(ns, "fraud", 1), cancellationToken: Ct)).Stage);
    }

    [Fact]
    public async Task AnInvalidGateIsRefusedWithThePositionOfTheError()
    {
        var ns = await world.NamespaceAsync();
        using var response = await Server.Http.SendJsonAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/policy/stages/production", """{"gate":"metrics.auc >= and tags.x = 1"}""", Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_filter");
        Assert.Equal(15, problem.GetProperty("position").GetInt32());
        Assert.Null((await Admin.GetPolicyAsync(ns, cancellationToken: Ct)).Stages.Single(s => s.Stage == "production").Gate);

        Assert.Equal("invalid_request", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(RequiredApprovals: 11), Ct))).Code);
        Assert.Equal("invalid_stage", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.SetStageRuleAsync(ns, null, "Bad Stage", new SetStageRuleRequest(), Ct))).Code);
    }

    [Fact]
    public async Task DeletingAVersionAModelOrANamespaceCancelsTheirOpenRequests()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(RequiredApprovals: 1), Ct);
        await Admin.SetStageRuleAsync(ns, null, "staging", new SetStageRuleRequest(RequiredApprovals: 1), Ct);
        await PushAsync(ns, "fraud", 2);
        await PushAsync(ns, "churn", 1);
        var first = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "production", cancellationToken: Ct)).Request!;
        var second = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 2), "staging", cancellationToken: Ct)).Request!;
        var other = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "churn", 1), "production", cancellationToken: Ct)).Request!;

        await Admin.DeleteVersionAsync(Ref(ns, "fraud", 1), cancellationToken: Ct);
        var afterVersion = await Admin.GetRequestAsync(first.Id, Ct);
        Assert.Equal((RequestStates.Cancelled, "the version was deleted"), (afterVersion.State, afterVersion.CloseReason));
        Assert.Equal(RequestStates.Open, (await Admin.GetRequestAsync(second.Id, Ct)).State);

        await Admin.DeleteModelAsync(ns, "fraud", Ct);
        Assert.Equal(("cancelled", "the model was deleted"), await StateAsync(second.Id));
        Assert.Equal(("open", (string?)null), await StateAsync(other.Id));

        await Admin.DeleteNamespaceAsync(ns, Ct);
        Assert.Equal(("cancelled", "the namespace was deleted"), await StateAsync(other.Id));

        // Each cancellation is in the audit log and the event log, like one by a person.
        // (The namespace is gone, so its events are read from the whole log.)
        var events = await Admin.ListEventsAsync(0, types: ["request.cancelled"], limit: 1000, cancellationToken: Ct);
        Assert.Equal([(ns + "/fraud", 1), (ns + "/fraud", 2), (ns + "/churn", 1)], events.Items.Where(e => e.Namespace == ns).Select(e => (e.Model!, e.Version!.Value)));
    }

    private async Task<(string State, string? Reason)> StateAsync(long request)
    {
        await using var connection = world.Server.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT state, close_reason FROM transition_requests WHERE id = {request}";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        return (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    [Fact]
    public async Task ANewerRequestForTheSameTargetSupersedesTheOlderOne()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(RequiredApprovals: 1), Ct);
        await PushAsync(ns, "fraud", 2);
        var older = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "production", cancellationToken: Ct)).Request!;
        var newer = (await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 2), "production", cancellationToken: Ct)).Request!;
        var superseded = await Admin.GetRequestAsync(older.Id, Ct);
        Assert.Equal(RequestStates.Superseded, superseded.State);
        Assert.Contains($"#{newer.Id}", superseded.CloseReason, StringComparison.Ordinal);
        Assert.Equal("request_closed", (await Assert.ThrowsAsync<BerthProblemException>(() => world.Bob.Client.ApproveRequestAsync(older.Id, cancellationToken: Ct))).Code);
        Assert.Equal(RequestStates.Applied, (await world.Bob.Client.ApproveRequestAsync(newer.Id, cancellationToken: Ct)).State);
    }

    [Fact]
    public async Task ConcurrentApprovalsNeverPutTwoVersionsIntoAnExclusiveStage()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(Exclusive: true, RequiredApprovals: 1), Ct);
        const int Rounds = 6;
        await PushAsync(ns, "fraud", Rounds * 2);
        for (var round = 0; round < Rounds; round++)
        {
            var a = round * 2 + 1;
            var b = a + 1;

            // Two writers ask for two versions at once; one request stays open, the other is superseded.
            var opened = await Task.WhenAll(
                world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", a), "production", cancellationToken: Ct),
                Admin.ChangeStageAsync(Ref(ns, "fraud", b), "production", cancellationToken: Ct));
            var ids = opened.Select(o => o.Request!.Id).ToArray();

            // Two approvers approve both at the same moment: exactly one request is applied.
            var reviews = await Task.WhenAll(
                Outcome(world.Bob.Client.ApproveRequestAsync(ids[0], cancellationToken: Ct)),
                Outcome(world.Carol.Client.ApproveRequestAsync(ids[1], cancellationToken: Ct)),
                Outcome(world.Carol.Client.ApproveRequestAsync(ids[0], cancellationToken: Ct)),
                Outcome(world.Bob.Client.ApproveRequestAsync(ids[1], cancellationToken: Ct)));
            Assert.Equal(1, reviews.Count(r => r == RequestStates.Applied));
            Assert.All(reviews.Where(r => r != RequestStates.Applied), r => Assert.Equal("request_closed", r));

            var states = await Task.WhenAll(ids.Select(id => Admin.GetRequestAsync(id, Ct)));
            Assert.Equal([RequestStates.Applied, RequestStates.Superseded], states.Select(s => s.State).Order(StringComparer.Ordinal));
            var holders = (await Admin.ListVersionsAsync(ns, "fraud", cancellationToken: Ct).ToListAsync(Ct)).Where(v => v.Stage == "production").ToList();
            var winner = Assert.Single(holders);
            Assert.Equal(states.Single(s => s.State == RequestStates.Applied).Version, winner.Number);
        }
    }

    [Fact]
    public async Task MovingAProtectedAliasGoesThroughARequest()
    {
        var ns = await world.NamespaceAsync();
        await PushAsync(ns, "fraud", 3);
        await world.Alice.Client.SetAliasAsync(ns, "fraud", "champion", "1", cancellationToken: Ct);
        var protectedAlias = await Admin.ProtectAliasAsync(ns, "fraud", "champion", 1, Ct);
        Assert.Equal(("champion", 1), (protectedAlias.Name, protectedAlias.RequiredApprovals));
        Assert.Equal(["champion"], (await Admin.ListProtectedAliasesAsync(ns, "fraud", Ct)).Select(p => p.Name));
        var writerProtects = await Assert.ThrowsAsync<BerthProblemException>(() => world.Alice.Client.ProtectAliasAsync(ns, "fraud", "candidate", 1, Ct));
        Assert.Equal("forbidden", writerProtects.Code);

        var moved = await world.Alice.Client.SetAliasAsync(ns, "fraud", "champion", "2", cancellationToken: Ct);
        Assert.Equal(TransitionOutcomes.Requested, moved.Outcome);
        Assert.Equal(("alias", "champion", 2), (moved.Request!.Kind, moved.Request.Alias, moved.Request.Version));
        Assert.Equal(1, (await Admin.GetAliasAsync(ns, "fraud", "champion", Ct)).Version);

        var removal = await Assert.ThrowsAsync<BerthProblemException>(() => world.Alice.Client.RemoveAliasAsync(ns, "fraud", "champion", cancellationToken: Ct));
        Assert.Equal("forbidden", removal.Code);
        using var folder = new ModelFolder(("p.bin", 20));
        var pushed = await Assert.ThrowsAsync<BerthProblemException>(() => world.Alice.Client.PushAsync(folder.Root, ns, "fraud", new PushOptions { Aliases = ["champion"] }, cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.Conflict, "alias_protected"), (pushed.Status, pushed.Code));

        var applied = await world.Carol.Client.ApproveRequestAsync(moved.Request.Id, "ok", Ct);
        Assert.Equal(RequestStates.Applied, applied.State);
        Assert.Equal(2, (await Admin.GetAliasAsync(ns, "fraud", "champion", Ct)).Version);
        var aliasHistory = await Admin.GetHistoryAsync(ns, "fraud", kind: "alias", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal([(null, 1, (long?)null), (1, 2, moved.Request.Id)], aliasHistory.Select(h => (h.PreviousVersion, h.Version, h.RequestId)).ToList());

        await Admin.UnprotectAliasAsync(ns, "fraud", "champion", Ct);
        Assert.Equal(TransitionOutcomes.Applied, (await world.Alice.Client.SetAliasAsync(ns, "fraud", "champion", "3", cancellationToken: Ct)).Outcome);
    }

    [Fact]
    public async Task HistoryAnswersWhichVersionHeldAStageOrAnAliasAtAnyMoment()
    {
        var ns = await world.NamespaceAsync();
        await Admin.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(Exclusive: true), Ct);
        await PushAsync(ns, "fraud", 3);
        await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 1), "production", cancellationToken: Ct);
        await world.Alice.Client.SetAliasAsync(ns, "fraud", "champion", "1", cancellationToken: Ct);
        await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 2), "production", cancellationToken: Ct);
        await world.Alice.Client.SetAliasAsync(ns, "fraud", "champion", "3", cancellationToken: Ct);
        await world.Alice.Client.ChangeStageAsync(Ref(ns, "fraud", 2), "staging", cancellationToken: Ct);

        var stages = await Admin.GetHistoryAsync(ns, "fraud", stage: "production", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(4, stages.Count);
        var (firstIn, secondIn, emptied) = (stages[0].At, stages[2].At, stages[3].At);
        var aliases = await Admin.GetHistoryAsync(ns, "fraud", alias: "champion", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal([1, 3], aliases.Select(h => h.Version!.Value));

        Assert.Empty((await Admin.GetHoldersAsync(ns, "fraud", firstIn.AddTicks(-10), stage: "production", cancellationToken: Ct)).Versions);
        Assert.Equal([1], (await Admin.GetHoldersAsync(ns, "fraud", firstIn, stage: "production", cancellationToken: Ct)).Versions);
        Assert.Equal([1], (await Admin.GetHoldersAsync(ns, "fraud", Between(firstIn, secondIn), stage: "production", cancellationToken: Ct)).Versions);
        Assert.Equal([2], (await Admin.GetHoldersAsync(ns, "fraud", Between(secondIn, emptied), stage: "production", cancellationToken: Ct)).Versions);
        Assert.Empty((await Admin.GetHoldersAsync(ns, "fraud", emptied, stage: "production", cancellationToken: Ct)).Versions);
        Assert.Equal([2], (await Admin.GetHoldersAsync(ns, "fraud", emptied, stage: "staging", cancellationToken: Ct)).Versions);
        Assert.Equal([1], (await Admin.GetHoldersAsync(ns, "fraud", Between(aliases[0].At, aliases[1].At), alias: "champion", cancellationToken: Ct)).Versions);
        Assert.Equal([3], (await Admin.GetHoldersAsync(ns, "fraud", aliases[1].At, alias: "champion", cancellationToken: Ct)).Versions);

        using var neither = await Server.Http.GetAsync($"/api/v1/models/{ns}/fraud/history/holders?at=2026-01-01T00:00:00Z", Ct);
        await neither.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        using var badTime = await Server.Http.GetAsync($"/api/v1/models/{ns}/fraud/history/holders?at=yesterday&stage=production", Ct);
        await badTime.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    private static DateTimeOffset Between(DateTimeOffset a, DateTimeOffset b) => a + ((b - a) / 2);

    private static async Task<string> Outcome(Task<RequestInfo> review)
    {
        try
        {
            return (await review).State;
        }
        catch (BerthProblemException e)
        {
            return e.Code ?? e.Message;
        }
    }

    private async Task<List<(int, string?)>> StagesAsync(string ns, string model) =>
        (await Admin.ListVersionsAsync(ns, model, cancellationToken: Ct).ToListAsync(Ct)).OrderBy(v => v.Number).Select(v => (v.Number, v.Stage)).ToList();

    private async Task PushAsync(string ns, string model, int count, double? auc = null, Dictionary<string, string>? tags = null)
    {
        for (var i = 0; i < count; i++)
        {
            using var folder = new ModelFolder();
            folder.Write("w.bin", 48, seed: Random.Shared.Next());
            var options = new PushOptions
            {
                Metrics = auc is { } value ? new Dictionary<string, double> { ["auc"] = value } : null,
                Tags = tags,
            };
            await Admin.PushAsync(folder.Root, ns, model, options, cancellationToken: Ct);
        }
    }

    private static ModelReference Ref(string ns, string model, int number) => ModelReference.Parse($"{ns}/{model}:{number}");
}
