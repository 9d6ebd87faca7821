using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>Training runs through a real server: lifecycle, idempotent metric ingestion, reads, comparison, search, refusals.</summary>
public sealed class RunTests(RunTests.Fixture fixture) : IClassFixture<RunTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        private TestServer? _server;

        public TestServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

        // Small limits so the limit tests stay small.
        public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(
            "--Runs:MaxBatchPoints", "5000", "--Runs:MaxBatchBytes", "400000");

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }

    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly BerthJsonContext Json = BerthJsonContext.Default;

    private async Task<RunInfo> StartAsync(string model, string? body = null, HttpClient? http = null)
    {
        using var response = await (http ?? Server.Http).SendJsonAsync(HttpMethod.Post, $"/api/v1/models/runs/{model}/runs", body ?? "{}", Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadAsync(Json.RunInfo);
    }

    private static string Batch(IEnumerable<(string Key, long Step, string Value)> points, string? batchId = null) =>
        "{" + (batchId is null ? "" : $"\"batchId\":\"{batchId}\",") + "\"points\":[" +
        string.Join(",", points.Select(p => $"{{\"key\":\"{p.Key}\",\"step\":{p.Step},\"value\":{p.Value},\"time\":{1_765_000_000_000 + p.Step}}}")) + "]}";

    private static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private async Task<HttpResponseMessage> LogAsync(string model, string id, string body, HttpClient? http = null) =>
        await (http ?? Server.Http).SendJsonAsync(HttpMethod.Post, $"/api/v1/models/runs/{model}/runs/{id}/metrics", body, Ct);

    private async Task<MetricBatchResult> LogOkAsync(string model, string id, string body, HttpClient? http = null)
    {
        using var response = await LogAsync(model, id, body, http);
        return await response.ReadAsync(Json.MetricBatchResult);
    }

    private async Task<RunInfo> GetAsync(string model, string id) =>
        (await Server.Http.GetFromJsonAsync($"/api/v1/models/runs/{model}/runs/{id}", Json.RunInfo, Ct))!;

    private async Task<List<SeriesPoint>> AllPointsAsync(string model, string id, string key, int limit = 10_000)
    {
        var all = new List<SeriesPoint>();
        string? cursor = null;
        do
        {
            var url = $"/api/v1/models/runs/{model}/runs/{id}/points?key={Uri.EscapeDataString(key)}&limit={limit}" + (cursor is null ? "" : "&cursor=" + cursor);
            var page = (await Server.Http.GetFromJsonAsync(url, Json.PageSeriesPoint, Ct))!;
            all.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return all;
    }

    private async Task<long> StoredChunksAsync(string id)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        return await db.RunMetricChunks.LongCountAsync(c => db.Runs.Any(r => r.Id == c.RunId && r.PublicId == id), Ct);
    }

    [Fact]
    public async Task StartingARunCreatesTheModelAndAnswersAShortUrlSafeIdAndAnEvent()
    {
        var run = await StartAsync("fresh", """{"name":"baseline","params":{"lr":"0.01","optimizer":"adam"},"tags":{"team":"risk"},"note":"first try","lineage":{"gitCommit":"ABCDEF12","gitDirty":true,"datasets":[{"uri":"s3://d/train"}]},"environment":{"host":"gpu-1","python":"3.12"}}""");
        Assert.Matches("^[a-z2-7]{12}$", run.Id);
        Assert.Equal(RunStatuses.Running, run.Status);
        Assert.Equal("baseline", run.Name);
        Assert.Equal("0.01", run.Params["lr"]);
        Assert.Equal("abcdef12", run.Lineage.GitCommit);
        Assert.True(run.Lineage.GitDirty);
        Assert.Equal("gpu-1", run.Environment!["host"]);
        Assert.Equal("admin", run.CreatedBy);
        using var model = await Server.Http.GetAsync("/api/v1/models/runs/fresh", Ct);
        Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        var events = await Server.Http.GetStringAsync("/api/v1/events?type=run.started&namespace=runs&limit=1000", Ct);
        Assert.Contains(run.Id, events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PointsRoundTripExactlyIncludingNaNAndInfinities()
    {
        var run = await StartAsync("roundtrip");
        var result = await LogOkAsync("roundtrip", run.Id, Batch([
            ("loss", 0, "0.5"), ("loss", 1, "\"NaN\""), ("loss", 2, "\"Infinity\""), ("loss", 3, "\"-Infinity\""), ("loss", 4, Num(0.1 + 0.2)), ("loss", 5, "-0.0"),
        ]));
        Assert.Equal(6, result.Stored);

        var points = await AllPointsAsync("roundtrip", run.Id, "loss");
        Assert.Equal([0L, 1, 2, 3, 4, 5], points.Select(p => p.Step));
        Assert.Equal(0.5, points[0].Value);
        Assert.True(double.IsNaN(points[1].Value));
        Assert.Equal(double.PositiveInfinity, points[2].Value);
        Assert.Equal(double.NegativeInfinity, points[3].Value);
        Assert.Equal(BitConverter.DoubleToInt64Bits(0.1 + 0.2), BitConverter.DoubleToInt64Bits(points[4].Value));
        Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0), BitConverter.DoubleToInt64Bits(points[5].Value));
        Assert.Equal(1_765_000_000_002, points[2].Time);

        var summary = (await GetAsync("roundtrip", run.Id)).Metrics["loss"];
        Assert.Equal(6, summary.Count);
        Assert.Equal(5, summary.LastStep);
        Assert.Equal(double.NegativeInfinity, summary.Min);
        Assert.Equal(double.PositiveInfinity, summary.Max);

        await LogOkAsync("roundtrip", run.Id, Batch([("loss", 6, "\"NaN\"")]));
        Assert.True(double.IsNaN((await GetAsync("roundtrip", run.Id)).Metrics["loss"].Last));
    }

    [Fact]
    public async Task SendingTheSameBatchTwiceStoresEachPointOnce()
    {
        var run = await StartAsync("retry");
        var points = Enumerable.Range(0, 1000).Select(i => ("loss", (long)i, Num(1.0 / (i + 1)))).ToList();
        var first = await LogOkAsync("retry", run.Id, Batch(points, "b-1"));
        var again = await LogOkAsync("retry", run.Id, Batch(points, "b-1"));
        Assert.Equal((1000, false), (first.Stored, first.Duplicate));
        Assert.Equal((0, true), (again.Stored, again.Duplicate));

        // Without a batch id, the points themselves identify the batch.
        var unnamed = Batch([("acc", 1, "0.5"), ("acc", 2, "0.6")]);
        Assert.False((await LogOkAsync("retry", run.Id, unnamed)).Duplicate);
        Assert.True((await LogOkAsync("retry", run.Id, unnamed)).Duplicate);

        var info = await GetAsync("retry", run.Id);
        Assert.Equal(1000, info.Metrics["loss"].Count);
        Assert.Equal(2, info.Metrics["acc"].Count);
        Assert.Equal(1000, (await AllPointsAsync("retry", run.Id, "loss", limit: 333)).Count);
    }

    [Fact]
    public async Task TwoClientsLoggingIntoOneRunAtOnceBothStoreCompleteSeries()
    {
        var run = await StartAsync("parallel");
        using var second = Server.NewHttp(Server.AdminToken);
        async Task Worker(HttpClient http, int worker)
        {
            for (var b = 0; b < 20; b++)
            {
                var points = Enumerable.Range(0, 100).Select(i => ("loss", (long)((b * 100) + i), Num(worker + (i / 1000.0)))).ToList();
                await LogOkAsync("parallel", run.Id, Batch(points, $"w{worker}-{b}"), http);
            }
        }

        await Task.WhenAll(Worker(Server.Http, 1), Worker(second, 2));
        var all = await AllPointsAsync("parallel", run.Id, "loss", limit: 777);
        Assert.Equal(4000, all.Count);
        Assert.Equal(2000, all.Count(p => p.Value >= 2));
        Assert.All(all.GroupBy(p => p.Step), g => Assert.Equal(2, g.Count()));
        Assert.Equal(4000, (await GetAsync("parallel", run.Id)).Metrics["loss"].Count);
    }

    [Fact]
    public async Task ABatchOverThePointLimitIsRefusedNamingTheLimitAndStoresNothing()
    {
        var run = await StartAsync("limits");
        using var response = await LogAsync("limits", run.Id, Batch(Enumerable.Range(0, 5001).Select(i => ("loss", (long)i, "1"))));
        var problem = await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "batch_too_large");
        Assert.Contains("Runs:MaxBatchPoints", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty((await GetAsync("limits", run.Id)).Metrics);
        Assert.Equal(0, await StoredChunksAsync(run.Id));
    }

    [Fact]
    public async Task ABatchOverTheByteLimitIsRefusedNamingTheLimitAndStoresNothing()
    {
        var run = await StartAsync("bytes");
        var longKey = new string('k', 120);
        var body = Batch(Enumerable.Range(0, 4000).Select(i => (longKey, (long)i, "1")));
        Assert.True(Encoding.UTF8.GetByteCount(body) > 400_000);
        using var response = await LogAsync("bytes", run.Id, body);
        var problem = await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "batch_too_large");
        Assert.Contains("Runs:MaxBatchBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Sent without a length (chunked), it is cut off at the limit all the same.
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/models/runs/bytes/runs/{run.Id}/metrics")
        {
            Content = new StreamContent(new UnknownLengthStream(Encoding.UTF8.GetBytes(body))),
        };
        request.Content.Headers.ContentType = new("application/json");
        using var chunked = await Server.Http.SendAsync(request, Ct);
        await chunked.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "batch_too_large");
        Assert.Empty((await GetAsync("bytes", run.Id)).Metrics);
    }

    [Fact]
    public async Task BadKeysBadValuesEndedAndUnknownRunsRefuseTheWholeBatch()
    {
        var run = await StartAsync("refusals");
        using (var badKey = await LogAsync("refusals", run.Id, Batch([("loss", 1, "1"), ("bad key!", 2, "1")])))
        {
            await badKey.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_name");
        }

        using (var text = await LogAsync("refusals", run.Id, """{"points":[{"key":"loss","step":1,"value":1},{"key":"loss","step":2,"value":"high"}]}"""))
        {
            await text.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_json");
        }

        using (var noPoints = await LogAsync("refusals", run.Id, """{"points":[]}"""))
        {
            await noPoints.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        }

        Assert.Empty((await GetAsync("refusals", run.Id)).Metrics);
        Assert.Equal(0, await StoredChunksAsync(run.Id));

        using (var unknown = await LogAsync("refusals", "aaaaaaaaaaaa", Batch([("loss", 1, "1")])))
        {
            await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "run_not_found");
        }

        using (var finish = await Server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/runs/refusals/runs/{run.Id}/finish", """{"status":"failed"}""", Ct))
        {
            Assert.Equal(RunStatuses.Failed, (await finish.ReadAsync(Json.RunInfo)).Status);
        }

        using (var ended = await LogAsync("refusals", run.Id, Batch([("loss", 1, "1")])))
        {
            await ended.AssertProblemAsync(HttpStatusCode.Conflict, "run_ended");
        }

        using (var again = await Server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/runs/refusals/runs/{run.Id}/finish", """{"status":"finished"}""", Ct))
        {
            await again.AssertProblemAsync(HttpStatusCode.Conflict, "run_ended");
        }

        using var heartbeat = await Server.Http.PostAsync($"/api/v1/models/runs/refusals/runs/{run.Id}/heartbeat", null, Ct);
        await heartbeat.AssertProblemAsync(HttpStatusCode.Conflict, "run_ended");
        var events = await Server.Http.GetStringAsync("/api/v1/events?type=run.finished&namespace=runs&limit=1000", Ct);
        Assert.Contains(run.Id, events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReaderReadsRunsButCannotStartOrLogIntoThem()
    {
        await Server.CreateNamespaceIfMissingAsync("runs");
        var run = await StartAsync("guarded");
        using var reader = await Server.AddUserAsync("run-reader", "runs", "reader");
        using (var log = await LogAsync("guarded", run.Id, Batch([("loss", 1, "1")]), reader.Http))
        {
            await log.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        }

        using (var start = await reader.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/runs/guarded/runs", "{}", Ct))
        {
            await start.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        }

        using var read = await reader.Http.GetAsync($"/api/v1/models/runs/guarded/runs/{run.Id}", Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Empty((await GetAsync("guarded", run.Id)).Metrics);
    }

    [Fact]
    public async Task DownsampledReadsKeepEveryBucketsMinAndMax()
    {
        var run = await StartAsync("downsample");
        for (var b = 0; b < 4; b++)
        {
            var points = Enumerable.Range(b * 2500, 2500).Select(i => ("loss", (long)i, i == 5000 ? "1000" : i == 7777 ? "-1000" : Num(Math.Sin(i / 100.0)))).ToList();
            await LogOkAsync("downsample", run.Id, Batch(points));
        }

        var set = (await Server.Http.GetFromJsonAsync($"/api/v1/models/runs/downsample/runs/{run.Id}/series?key=loss&buckets=100", Json.SeriesSet, Ct))!;
        Assert.Equal((0L, 9999L, 100L), (set.From!.Value, set.To!.Value, set.BucketWidth!.Value));
        var buckets = set.Series.Single().Buckets!;
        Assert.InRange(buckets.Count, 95, 100);
        Assert.Equal(10_000, buckets.Sum(b => b.Count));
        Assert.Equal(1000, buckets.Max(b => b.Max));
        Assert.Equal(-1000, buckets.Min(b => b.Min));
        var spike = buckets.Single(b => b.Max == 1000);
        Assert.InRange(5000, spike.FirstStep, spike.LastStep);

        // Zoomed in: buckets narrower than a chunk are filled point by point, exactly.
        var zoom = (await Server.Http.GetFromJsonAsync($"/api/v1/models/runs/downsample/runs/{run.Id}/series?key=loss&buckets=50&from=4900&to=5099", Json.SeriesSet, Ct))!;
        var zoomed = zoom.Series.Single().Buckets!;
        Assert.Equal(50, zoomed.Count);
        Assert.All(zoomed, b => Assert.Equal(4, b.Count));
        Assert.Equal(1000, zoomed.Single(b => b.FirstStep == 5000).Max);

        // Few points: the points themselves.
        var few = (await Server.Http.GetFromJsonAsync($"/api/v1/models/runs/downsample/runs/{run.Id}/series?key=loss&buckets=1000&from=10&to=19", Json.SeriesSet, Ct))!;
        Assert.Equal(Enumerable.Range(10, 10).Select(i => (long)i), few.Series.Single().Points!.Select(p => p.Step));
    }

    [Fact]
    public async Task ComparedRunsShareOneStepGrid()
    {
        var a = await StartAsync("compare");
        var b = await StartAsync("compare");
        await LogOkAsync("compare", a.Id, Batch(Enumerable.Range(0, 3000).Select(i => ("val/loss", (long)i, Num(1.0 / (i + 1))))));
        await LogOkAsync("compare", b.Id, Batch(Enumerable.Range(1000, 3000).Select(i => ("val/loss", (long)i, Num(2.0 / (i + 1))))));
        var set = (await Server.Http.GetFromJsonAsync($"/api/v1/models/runs/compare/runs/compare?runs={a.Id},{b.Id}&keys=val/loss&buckets=40", Json.SeriesSet, Ct))!;
        Assert.Equal((0L, 3999L, 100L), (set.From!.Value, set.To!.Value, set.BucketWidth!.Value));
        Assert.Equal([a.Id, b.Id], set.Series.Select(s => s.Run));
        Assert.All(set.Series.SelectMany(s => s.Buckets!), bucket => Assert.Equal(bucket.FirstStep / 100, bucket.LastStep / 100));
        Assert.Equal(3000, set.Series[0].Buckets!.Sum(x => x.Count));
        Assert.Equal(1000, set.Series[1].Buckets!.Min(x => x.FirstStep));

        using var tooMany = await Server.Http.GetAsync($"/api/v1/models/runs/compare/runs/compare?runs={string.Join(',', Enumerable.Repeat(a.Id, 21).Select((id, i) => i == 0 ? id : "x" + i))}&keys=loss", Ct);
        await tooMany.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task RunsAreFoundByParamsMetricsAndStatusAndSortedByAMetric()
    {
        var ids = new List<string>();
        foreach (var (lr, auc, finish) in new[] { (0.01, 0.95, true), (0.02, 0.91, true), (0.1, 0.97, true), (0.01, 0.93, false) })
        {
            var run = await StartAsync("search", "{\"params\":{\"lr\":\"" + Num(lr) + "\"},\"tags\":{\"team\":\"risk\"}}");
            await LogOkAsync("search", run.Id, Batch([("val_auc", 1, Num(auc / 2)), ("val_auc", 2, Num(auc))]));
            if (finish)
            {
                using var done = await Server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/runs/search/runs/{run.Id}/finish", "{}", Ct);
                Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            }

            ids.Add(run.Id);
        }

        var filter = Uri.EscapeDataString("params.lr < 0.05 and metrics.val_auc > 0.9 and status = \"finished\" and tags.team = 'risk'");
        var first = (await Server.Http.GetFromJsonAsync($"/api/v1/models/runs/search/runs?filter={filter}&sort=-metrics.val_auc&limit=1", Json.PageRunInfo, Ct))!;
        Assert.Equal([ids[0]], first.Items.Select(r => r.Id));
        var second = (await Server.Http.GetFromJsonAsync($"/api/v1/models/runs/search/runs?filter={filter}&sort=-metrics.val_auc&limit=1&cursor={first.NextCursor}", Json.PageRunInfo, Ct))!;
        Assert.Equal([ids[1]], second.Items.Select(r => r.Id));
        Assert.Null(second.NextCursor);

        var all = (await Server.Http.GetFromJsonAsync("/api/v1/models/runs/search/runs?sort=metrics.val_auc", Json.PageRunInfo, Ct))!;
        Assert.Equal([ids[1], ids[3], ids[0], ids[2]], all.Items.Select(r => r.Id));

        using var badField = await Server.Http.GetAsync("/api/v1/models/runs/search/runs?filter=stage%20%3D%20'x'", Ct);
        await badField.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_filter");
        using var badStatus = await Server.Http.GetAsync("/api/v1/models/runs/search/runs?filter=status%20%3D%20'sleeping'", Ct);
        await badStatus.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_filter");
    }

    [Fact]
    public async Task RunsPageByStartTimeWithTheCursorsTheServerHandsOut()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await StartAsync("pages")).Id);
        }

        foreach (var (sort, expected) in new[] { ("", ids.AsEnumerable().Reverse().ToList()), ("&sort=created", ids) })
        {
            var seen = new List<string>();
            string? cursor = null;
            do
            {
                var page = (await Server.Http.GetFromJsonAsync($"/api/v1/models/runs/pages/runs?limit=1{sort}" + (cursor is null ? "" : "&cursor=" + cursor), Json.PageRunInfo, Ct))!;
                seen.AddRange(page.Items.Select(r => r.Id));
                cursor = page.NextCursor;
            }
            while (cursor is not null && seen.Count < 10);

            Assert.Equal(expected, seen);
        }
    }

    [Fact]
    public async Task NameNoteAndTagsChangeAndADeletedRunIsGone()
    {
        var run = await StartAsync("edit");
        using (var update = await Server.Http.SendJsonAsync(HttpMethod.Patch, $"/api/v1/models/runs/edit/runs/{run.Id}", """{"name":"better","note":"lr too high","setTags":{"keep":"yes"}}""", Ct))
        {
            var updated = await update.ReadAsync(Json.RunInfo);
            Assert.Equal(("better", "lr too high", "yes"), (updated.Name, updated.Note, updated.Tags["keep"]));
        }

        using (var delete = await Server.Http.DeleteAsync($"/api/v1/models/runs/edit/runs/{run.Id}", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using var gone = await Server.Http.GetAsync($"/api/v1/models/runs/edit/runs/{run.Id}", Ct);
        await gone.AssertProblemAsync(HttpStatusCode.NotFound, "run_not_found");
        var audit = await Server.Http.GetStringAsync("/api/v1/audit?namespace=runs&limit=1000", Ct);
        Assert.Contains($"runs/edit/runs/{run.Id}", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManySmallBatchesAreCompactedIntoFewChunks()
    {
        var run = await StartAsync("compact");
        for (var i = 0; i < 150; i++)
        {
            await LogOkAsync("compact", run.Id, Batch([("loss", i, Num(i))]));
        }

        Assert.InRange(await StoredChunksAsync(run.Id), 1, 70);
        var points = await AllPointsAsync("compact", run.Id, "loss", limit: 64);
        Assert.Equal(Enumerable.Range(0, 150).Select(i => (double)i), points.Select(p => p.Value));
    }

    /// <summary>A stream whose length is unknown, so the client sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
