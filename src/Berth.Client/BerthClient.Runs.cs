using System.Globalization;
using Berth.Contracts.Dtos;

namespace Berth.Client;

public sealed partial class BerthClient
{
    private string RunsPath(string ns, string model) => $"{ModelPath(ns, model)}/runs";

    /// <summary>Starts a run of <paramref name="ns"/>/<paramref name="model"/> (created on first use) and returns it.</summary>
    public Task<RunInfo> CreateRunAsync(string ns, string model, CreateRunRequest? request = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, RunsPath(ns, model), request ?? new CreateRunRequest(), Json.RunInfo, cancellationToken, WithIdempotencyKey());

    /// <summary>
    /// Starts a run and returns a <see cref="RunSession"/> that logs metrics in the background. Dispose it to flush
    /// and finish the run; <see cref="RunAsync"/> also marks the run failed when the training throws.
    /// </summary>
    public async Task<RunSession> StartRunAsync(string ns, string model, CreateRunRequest? request = null, RunSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var run = await CreateRunAsync(ns, model, request, cancellationToken).ConfigureAwait(false);
        return new RunSession(this, run, options ?? new RunSessionOptions());
    }

    /// <summary>
    /// Attaches to a run that already exists (e.g. <c>BERTH_RUN_ID</c> set by <c>berth run exec</c>): logs into it
    /// without finishing it on dispose unless <paramref name="finishOnDispose"/>.
    /// </summary>
    public async Task<RunSession> AttachRunAsync(string ns, string model, string id, RunSessionOptions? options = null, bool finishOnDispose = false, CancellationToken cancellationToken = default)
    {
        var run = await GetRunAsync(ns, model, id, cancellationToken).ConfigureAwait(false);
        return new RunSession(this, run, options ?? new RunSessionOptions(), finishOnDispose);
    }

    /// <summary>
    /// Runs <paramref name="training"/> as a run: finished when it returns, failed when it throws (the exception is
    /// rethrown), killed when it is cancelled.
    /// </summary>
    public async Task<RunInfo> RunAsync(string ns, string model, Func<RunSession, Task> training, CreateRunRequest? request = null, RunSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        var session = await StartRunAsync(ns, model, request, options, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            try
            {
                await training(session).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                session.EndAs(RunStatuses.Killed);
                throw;
            }
            catch
            {
                session.EndAs(RunStatuses.Failed);
                throw;
            }
        }

        return session.Final ?? session.Run;
    }

    public Task<RunInfo> GetRunAsync(string ns, string model, string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{RunsPath(ns, model)}/{Segment(id)}", null, Json.RunInfo, cancellationToken);

    /// <summary>Runs of a model matching <paramref name="filter"/> (the filter language), sorted by <paramref name="sort"/> (created or metrics.&lt;key&gt;, '-' descending).</summary>
    public IAsyncEnumerable<RunInfo> ListRunsAsync(string ns, string model, string? filter = null, string? sort = null, CancellationToken cancellationToken = default) =>
        PagesAsync(RunsPath(ns, model) + Query(("filter", filter), ("sort", sort)), Json.PageRunInfo, cancellationToken);

    public Task<RunInfo> UpdateRunAsync(string ns, string model, string id, UpdateRunRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, $"{RunsPath(ns, model)}/{Segment(id)}", request, Json.RunInfo, cancellationToken);

    /// <summary>Ends a run as finished (default), failed or killed.</summary>
    public Task<RunInfo> FinishRunAsync(string ns, string model, string id, string? status = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{RunsPath(ns, model)}/{Segment(id)}/finish", new FinishRunRequest(status), Json.RunInfo, cancellationToken);

    public Task HeartbeatRunAsync(string ns, string model, string id, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Post, $"{RunsPath(ns, model)}/{Segment(id)}/heartbeat", null, cancellationToken);

    public Task DeleteRunAsync(string ns, string model, string id, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, $"{RunsPath(ns, model)}/{Segment(id)}", null, cancellationToken);

    /// <summary>Sends one metric batch; the same <see cref="MetricBatch.BatchId"/> is stored once, so a retry is safe.</summary>
    public Task<MetricBatchResult> LogMetricsAsync(string ns, string model, string id, MetricBatch batch, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{RunsPath(ns, model)}/{Segment(id)}/metrics", batch, Json.MetricBatchResult, cancellationToken);

    /// <summary>One metric of a run, downsampled to at most <paramref name="buckets"/> min/max buckets (or its points when fewer).</summary>
    public Task<SeriesSet> ReadMetricAsync(string ns, string model, string id, string key, int? buckets = null, long? from = null, long? to = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{RunsPath(ns, model)}/{Segment(id)}/series{Query(("key", key), ("buckets", Text(buckets)), ("from", Text(from)), ("to", Text(to)))}", null, Json.SeriesSet, cancellationToken);

    /// <summary>Every point of one metric of a run, in step order.</summary>
    public IAsyncEnumerable<SeriesPoint> ReadMetricPointsAsync(string ns, string model, string id, string key, CancellationToken cancellationToken = default) =>
        PagesAsync($"{RunsPath(ns, model)}/{Segment(id)}/points{Query(("key", key), ("limit", "10000"))}", Json.PageSeriesPoint, cancellationToken);

    /// <summary>Up to 20 runs of a model on up to 10 metrics, over one step range cut into the same buckets.</summary>
    public Task<SeriesSet> CompareRunsAsync(string ns, string model, IEnumerable<string> ids, IEnumerable<string> keys, int? buckets = null, CancellationToken cancellationToken = default) =>
        CompareRunsAsync(ns, model, ids, keys, buckets, "step", cancellationToken: cancellationToken);

    /// <summary>
    /// Runs compared on metrics over one range cut into the same buckets, aligned on <paramref name="align"/>: <c>step</c>
    /// or <c>time</c> (milliseconds since each run's start, e.g. to compare runs that went at different speeds);
    /// <paramref name="from"/> and <paramref name="to"/> bound that range.
    /// </summary>
    public Task<SeriesSet> CompareRunsAsync(string ns, string model, IEnumerable<string> ids, IEnumerable<string> keys, int? buckets, string align, long? from = null, long? to = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{RunsPath(ns, model)}/compare{Query(("runs", string.Join(',', ids)), ("keys", string.Join(',', keys)), ("buckets", Text(buckets)), ("align", align), ("from", Text(from)), ("to", Text(to)))}", null, Json.SeriesSet, cancellationToken);

    private static string? Text(long? value) => value?.ToString(CultureInfo.InvariantCulture);
}
