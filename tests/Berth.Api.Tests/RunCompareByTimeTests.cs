using System.Net;
using Berth.Api.Tests.Support;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests;

/// <summary>
/// Comparing runs aligned on time (GET …/runs/compare?align=time): every series over one range of milliseconds since its
/// run's start, cut into the same buckets, so a run twice as fast lines up by wall clock; raw points and ranges; refusals.
/// </summary>
public sealed class RunCompareByTimeTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A run of 1,000 steps of 'loss', one every <paramref name="msPerStep"/> milliseconds after its start.</summary>
    private async Task<RunInfo> RunAsync(string ns, string name, int msPerStep)
    {
        var run = await Server.Client.CreateRunAsync(ns, "m", new CreateRunRequest(name), Ct);
        var start = run.StartedAt.ToUnixTimeMilliseconds();
        var points = Enumerable.Range(0, 1000).Select(i => new MetricPointInput("loss", i, 1.0 / (i + 1), start + ((long)i * msPerStep))).ToList();
        await Server.Client.LogMetricsAsync(ns, "m", run.Id, new MetricBatch(points), Ct);
        return run;
    }

    [Fact]
    public async Task RunsAlignOnTheTimeSinceTheirStartInTheSameBuckets()
    {
        var ns = "ct" + Guid.NewGuid().ToString("N")[..8];
        var fast = await RunAsync(ns, "fast", 100);
        var slow = await RunAsync(ns, "slow", 200);

        // 10 buckets over [0, 199,800] ms: the fast run fills the first half, twice as densely.
        var set = await Server.Client.CompareRunsAsync(ns, "m", [fast.Id, slow.Id], ["loss"], 10, "time", cancellationToken: Ct);
        Assert.Equal(("time", (long?)0, (long?)199_800, (long?)19_981), (set.Align, set.From, set.To, set.BucketWidth));
        var (f, s) = (set.Series[0], set.Series[1]);
        Assert.Equal((fast.Id, fast.StartedAt.ToUnixTimeMilliseconds()), (f.Run, f.Origin));
        Assert.Equal(5, f.Buckets!.Count);
        Assert.Equal(10, s.Buckets!.Count);
        Assert.Equal(200, f.Buckets[0].Count);
        Assert.Equal(100, s.Buckets[0].Count);
        Assert.Equal((0L, 199L, 0L, 19_900L), (f.Buckets[0].FirstStep, f.Buckets[0].LastStep, f.Buckets[0].FirstTime!.Value, f.Buckets[0].LastTime!.Value));
        Assert.Equal((0L, 99L, 19_800L), (s.Buckets[0].FirstStep, s.Buckets[0].LastStep, s.Buckets[0].LastTime!.Value));
        Assert.Equal(1000, f.Count);
        Assert.Equal(1000, s.Count);
        Assert.Equal(1.0, f.Buckets[0].Max);

        // Two wide buckets: chunks that fit in one are counted whole from their summaries; the counts stay exact.
        var wide = await Server.Client.CompareRunsAsync(ns, "m", [fast.Id, slow.Id], ["loss"], 2, "time", cancellationToken: Ct);
        Assert.Equal([1000L], wide.Series[0].Buckets!.Select(b => b.Count));
        Assert.Equal([500L, 500L], wide.Series[1].Buckets!.Select(b => b.Count));

        // A range of time: the points themselves when few (their own Unix times; minus Origin, the common axis).
        var zoomed = await Server.Client.CompareRunsAsync(ns, "m", [fast.Id, slow.Id], ["loss"], 1000, "time", 0, 10_000, Ct);
        Assert.Null(zoomed.BucketWidth);
        Assert.Equal(101, zoomed.Series[0].Points!.Count);
        Assert.Equal(51, zoomed.Series[1].Points!.Count);
        Assert.Equal(10_000, zoomed.Series[1].Points![^1].Time - zoomed.Series[1].Origin!.Value);

        // On step, as before, and said so.
        var bySteps = await Server.Client.CompareRunsAsync(ns, "m", [fast.Id, slow.Id], ["loss"], 10, cancellationToken: Ct);
        Assert.Equal(("step", (long?)0, (long?)999), (bySteps.Align, bySteps.From, bySteps.To));
        Assert.Equal(bySteps.Series[0].Buckets!.Select(b => b.Count), bySteps.Series[1].Buckets!.Select(b => b.Count));
        Assert.All(bySteps.Series[0].Buckets!, b => Assert.Null(b.FirstTime));
    }

    [Theory]
    [InlineData("align=banana", "align must be 'step'")]
    [InlineData("align=time&from=-5", "0 or more")]
    [InlineData("align=time&from=10&to=5", "from must not be after to")]
    public async Task BadAlignmentsAreRefused(string query, string message)
    {
        var ns = "cb" + Guid.NewGuid().ToString("N")[..8];
        var run = await RunAsync(ns, "r", 10);
        using var response = await Server.Http.GetAsync($"/api/v1/models/{ns}/m/runs/compare?runs={run.Id}&keys=loss&{query}", Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
