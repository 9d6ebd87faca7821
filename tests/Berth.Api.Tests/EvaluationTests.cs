using System.Net;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Contracts.Naming;

namespace Berth.Api.Tests;

/// <summary>
/// Evaluations through a real server: metrics added to a ready version after its push become its effective metrics
/// (search, sorting, stage gates) while the pushed values stay; provenance, history, audit, events; the refusals.
/// </summary>
public sealed class EvaluationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly BerthJsonContext Json = BerthJsonContext.Default;

    private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private static string Evaluations(string ns, string model, object selector) => $"/api/v1/models/{ns}/{model}/versions/{selector}/evaluations";

    private async Task PushAsync(string ns, string model, Dictionary<string, double> metrics, string? semver = null)
    {
        using var folder = new ModelFolder();
        folder.Write("w.bin", 64, seed: Random.Shared.Next());
        await Server.Client.PushAsync(folder.Root, ns, model, new PushOptions { Metrics = metrics, Version = semver }, cancellationToken: Ct);
    }

    private async Task<EvaluationInfo> EvaluateAsync(string ns, string model, object selector, string body, HttpClient? http = null)
    {
        using var response = await (http ?? Server.Http).SendJsonAsync(HttpMethod.Post, Evaluations(ns, model, selector), body, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadAsync(Json.EvaluationInfo);
    }

    private Task<VersionInfo> GetAsync(string ns, string model, int number) => Server.Client.GetVersionAsync(Versions.Ref(ns, model, number), cancellationToken: Ct);

    [Fact]
    public async Task AnEvaluationsMetricsBecomeEffectiveForSearchAndGatesWhileThePushedValuesStay()
    {
        var ns = Unique("ev");
        await PushAsync(ns, "fraud", new() { ["auc"] = 0.91, ["f1"] = 0.8 }, "1.0.0");
        await PushAsync(ns, "fraud", new() { ["auc"] = 0.92 });
        var run = await Server.Client.CreateRunAsync(ns, "fraud", new CreateRunRequest("nightly-eval"), Ct);
        var pushed = await GetAsync(ns, "fraud", 1);
        Assert.Null(pushed.EvaluatedMetrics);

        var first = await EvaluateAsync(ns, "fraud", "1.0.0", $$"""{"metrics": {"auc": 0.95, "recall": 0.7}, "dataset": "holdout-2026-11", "run": "{{run.Id}}", "note": "nightly"}""");
        Assert.Equal((ns, "fraud", 1), (first.Namespace, first.Model, first.Version));
        Assert.Equal(new Dictionary<string, double> { ["auc"] = 0.95, ["recall"] = 0.7 }, first.Metrics);
        Assert.Equal(("holdout-2026-11", run.Id, "nightly", "admin"), (first.Dataset, first.Run, first.Note, first.CreatedBy));

        // The version's metrics are the effective values; each evaluated one names its evaluation and its pushed value.
        var evaluated = await GetAsync(ns, "fraud", 1);
        Assert.Equal(new Dictionary<string, double> { ["auc"] = 0.95, ["f1"] = 0.8, ["recall"] = 0.7 }, evaluated.Metrics);
        var auc = evaluated.EvaluatedMetrics!["auc"];
        Assert.Equal((first.Id, (double?)0.91, "holdout-2026-11", run.Id, "admin"), (auc.Evaluation, auc.Pushed, auc.Dataset, auc.Run, auc.CreatedBy));
        Assert.Null(evaluated.EvaluatedMetrics["recall"].Pushed);
        Assert.False(evaluated.EvaluatedMetrics.ContainsKey("f1"));
        Assert.True(evaluated.Revision > pushed.Revision);

        // Search and sorting see the effective value.
        var found = await Server.Client.SearchAsync($"namespace = '{ns}' and metrics.auc > 0.93", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal([1], found.Select(v => v.Number));
        Assert.Empty(await Server.Client.SearchAsync($"namespace = '{ns}' and metrics.auc < 0.915", cancellationToken: Ct).ToListAsync(Ct));
        var sorted = await Server.Client.SearchAsync($"namespace = '{ns}'", "-metrics.auc", Ct).ToListAsync(Ct);
        Assert.Equal([1, 2], sorted.Select(v => v.Number));

        // A later evaluation of a metric wins; the others keep theirs; the pushed value is still there.
        var second = await EvaluateAsync(ns, "fraud", 1, """{"metrics": {"auc": 0.89}, "dataset": "holdout-2026-12"}""");
        var again = await GetAsync(ns, "fraud", 1);
        Assert.Equal(0.89, again.Metrics["auc"]);
        Assert.Equal((second.Id, (double?)0.91), (again.EvaluatedMetrics!["auc"].Evaluation, again.EvaluatedMetrics["auc"].Pushed));
        Assert.Equal(first.Id, again.EvaluatedMetrics["recall"].Evaluation);

        // The history: newest first, paged.
        var all = await Server.Client.ListEvaluationsAsync(Versions.Ref(ns, "fraud", 1), Ct).ToListAsync(Ct);
        Assert.Equal([second.Id, first.Id], all.Select(e => e.Id));
        using (var page = await Server.Http.GetAsync(Evaluations(ns, "fraud", 1) + "?limit=1", Ct))
        {
            var one = await page.ReadAsync(Json.PageEvaluationInfo);
            Assert.Equal([second.Id], one.Items.Select(e => e.Id));
            Assert.NotNull(one.NextCursor);
        }

        // Audit and event.
        var audit = await Server.Http.GetStringAsync($"/api/v1/audit?action=version.evaluate&namespace={ns}", Ct);
        Assert.Contains($"\"target\":\"{ns}/fraud:1\"", audit, StringComparison.Ordinal);
        Assert.Contains("\"actor\":\"admin\"", audit, StringComparison.Ordinal);
        var events = await Server.Http.GetStringAsync($"/api/v1/events?type=version.evaluated&namespace={ns}", Ct);
        using var parsed = JsonDocument.Parse(events);
        var evaluatedEvents = parsed.RootElement.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("type").GetString() == "version.evaluated").ToList();
        Assert.Equal(2, evaluatedEvents.Count);
        Assert.Equal(0.95, evaluatedEvents[0].GetProperty("after").GetProperty("metrics").GetProperty("auc").GetDouble());
        Assert.Equal(0.91, evaluatedEvents[0].GetProperty("before").GetProperty("metrics").GetProperty("auc").GetDouble());
        Assert.Equal("holdout-2026-11", evaluatedEvents[0].GetProperty("data").GetProperty("dataset").GetString());

        // A stage gate reads the effective value: refused at 0.89, passed after a fresh evaluation (evaluate, then promote).
        await Server.Client.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(Gate: "metrics.auc >= 0.93"), Ct);
        var refused = await Assert.ThrowsAsync<Berth.Client.BerthProblemException>(() => Server.Client.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "production", cancellationToken: Ct));
        Assert.Equal("gate_failed", refused.Code);
        Assert.Contains("0.89", refused.Message, StringComparison.Ordinal);
        await EvaluateAsync(ns, "fraud", 1, """{"metrics": {"auc": 0.94}, "dataset": "holdout-2026-12"}""");
        var moved = await Server.Client.ChangeStageAsync(Versions.Ref(ns, "fraud", 1), "production", cancellationToken: Ct);
        Assert.Equal("production", (await GetAsync(ns, "fraud", 1)).Stage);
        Assert.NotNull(moved);
    }

    [Fact]
    public async Task BadEvaluationsAreRefusedWithTheirCodesAndStoreNothing()
    {
        var ns = Unique("bad");
        await PushAsync(ns, "m", new() { ["auc"] = 0.9 });
        await PushAsync(ns, "m", new() { ["auc"] = 0.8 });
        await PushAsync(ns, "other", new() { ["auc"] = 0.8 });
        var otherRun = await Server.Client.CreateRunAsync(ns, "other", new CreateRunRequest(), Ct);
        var deletedRun = await Server.Client.CreateRunAsync(ns, "m", new CreateRunRequest(), Ct);
        await Server.Client.DeleteRunAsync(ns, "m", deletedRun.Id, Ct);
        await Server.Client.DeleteVersionAsync(Versions.Ref(ns, "m", 2), cancellationToken: Ct);
        var pending = await Server.Client.CreateVersionAsync(ns, "m", new CreateVersionRequest([new FileEntry("x.bin", 10, "sha256:" + new string('b', 64))]), cancellationToken: Ct);

        async Task RefusedAsync(object selector, string body, HttpStatusCode status, string code, HttpClient? http = null)
        {
            using var response = await (http ?? Server.Http).SendJsonAsync(HttpMethod.Post, Evaluations(ns, "m", selector), body, Ct);
            await response.AssertProblemAsync(status, code);
        }

        await RefusedAsync(1, "{}", HttpStatusCode.BadRequest, "invalid_json"); // metrics is required
        await RefusedAsync(1, """{"metrics": {}}""", HttpStatusCode.BadRequest, "invalid_metadata");
        await RefusedAsync(1, """{"metrics": {"bad key!": 1}}""", HttpStatusCode.BadRequest, "invalid_metadata");
        await RefusedAsync(1, """{"metrics": {"auc": "high"}}""", HttpStatusCode.BadRequest, "invalid_json");
        await RefusedAsync(1, """{"metrics": {"auc": "NaN"}}""", HttpStatusCode.BadRequest, "invalid_metadata"); // read as NaN, not finite
        await RefusedAsync(1, """{"metrics": {"auc": 1e999}}""", HttpStatusCode.BadRequest, "invalid_metadata"); // read as infinity, not finite
        await RefusedAsync(1, """{"metrics": {"auc": 0.9}, "dataset": ""}""", HttpStatusCode.BadRequest, "invalid_metadata");
        await RefusedAsync(1, """{"metrics": {"auc": 0.9}, "dataset": "a\u0001b"}""", HttpStatusCode.BadRequest, "invalid_metadata");
        await RefusedAsync(1, $$"""{"metrics": {"auc": 0.9}, "note": "{{new string('n', 4097)}}"}""", HttpStatusCode.BadRequest, "invalid_metadata");
        var many = string.Join(", ", Enumerable.Range(0, 1001).Select(i => $"\"m{i}\": 1"));
        await RefusedAsync(1, "{\"metrics\": {" + many + "}}", HttpStatusCode.BadRequest, "invalid_metadata");
        await RefusedAsync(1, """{"metrics": {"auc": 0.9}, "run": "aaaaaaaaaaaa"}""", HttpStatusCode.NotFound, "run_not_found");
        await RefusedAsync(1, $$"""{"metrics": {"auc": 0.9}, "run": "{{otherRun.Id}}"}""", HttpStatusCode.NotFound, "run_not_found");
        await RefusedAsync(1, $$"""{"metrics": {"auc": 0.9}, "run": "{{deletedRun.Id}}"}""", HttpStatusCode.NotFound, "run_not_found");
        await RefusedAsync(2, """{"metrics": {"auc": 0.9}}""", HttpStatusCode.Gone, "version_deleted");
        await RefusedAsync(pending.Version.Number, """{"metrics": {"auc": 0.9}}""", HttpStatusCode.Conflict, "version_not_ready");
        await RefusedAsync(99, """{"metrics": {"auc": 0.9}}""", HttpStatusCode.NotFound, "version_not_found");

        using var reader = await Server.AddUserAsync(Unique("reader"), ns, Roles.Reader);
        await RefusedAsync(1, """{"metrics": {"auc": 0.9}}""", HttpStatusCode.Forbidden, "forbidden", reader.Http);
        using var stranger = await Server.AddUserAsync(Unique("stranger"));
        await RefusedAsync(1, """{"metrics": {"auc": 0.9}}""", HttpStatusCode.NotFound, "namespace_not_found", stranger.Http);

        // Nothing of it was stored.
        Assert.Empty(await Server.Client.ListEvaluationsAsync(Versions.Ref(ns, "m", 1), Ct).ToListAsync(Ct));
        Assert.Equal(0.9, (await GetAsync(ns, "m", 1)).Metrics["auc"]);

        // A reader reads them; a writer records them; an Idempotency-Key records a retried one once.
        using var writer = await Server.AddUserAsync(Unique("writer"), ns, Roles.Writer);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var response = await writer.Http.SendJsonAsync(HttpMethod.Post, Evaluations(ns, "m", 1), """{"metrics": {"auc": 0.97}}""", Ct, ("Idempotency-Key", "eval-once"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        using var listed = await reader.Http.GetAsync(Evaluations(ns, "m", 1), Ct);
        var page = await listed.ReadAsync(Json.PageEvaluationInfo);
        Assert.Equal(writer.Name, Assert.Single(page.Items).CreatedBy);
    }

    [Fact]
    public async Task ConcurrentEvaluationsAreAllKeptAndTheLastRecordedWins()
    {
        var ns = Unique("conc");
        await PushAsync(ns, "m", new() { ["auc"] = 0.5 });
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            EvaluateAsync(ns, "m", 1, $$"""{"metrics": {"auc": {{0.6 + (i / 100.0)}}}, "dataset": "d{{i}}"}""")));
        var all = await Server.Client.ListEvaluationsAsync(Versions.Ref(ns, "m", 1), Ct).ToListAsync(Ct);
        Assert.Equal(8, all.Count);
        var latest = results.MaxBy(e => e.Id)!;
        var version = await GetAsync(ns, "m", 1);
        Assert.Equal(latest.Metrics["auc"], version.Metrics["auc"]);
        Assert.Equal((latest.Id, (double?)0.5), (version.EvaluatedMetrics!["auc"].Evaluation, version.EvaluatedMetrics["auc"].Pushed));
    }
}
