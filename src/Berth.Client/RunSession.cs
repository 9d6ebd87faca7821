using System.Collections.Concurrent;
using System.Net;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;

namespace Berth.Client;

/// <summary>How a <see cref="RunSession"/> buffers and sends metrics.</summary>
public sealed class RunSessionOptions
{
    /// <summary>How often buffered points are sent (also sooner, once <see cref="FlushPoints"/> are waiting).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Send as soon as this many points wait.</summary>
    public int FlushPoints { get; set; } = 5000;

    /// <summary>The most points in one batch (the server's default limit, Runs:MaxBatchPoints, is 10,000).</summary>
    public int BatchPoints { get; set; } = 10_000;

    /// <summary>
    /// The most points held in memory, waiting to be sent. When the server is unreachable long enough to fill it,
    /// <see cref="RunSession.Log"/> drops the new points (never blocks, never grows) and counts them in
    /// <see cref="RunSession.DroppedPoints"/>; the points already buffered keep their order and are sent once the server answers again.
    /// </summary>
    public int MaxBufferedPoints { get; set; } = 1_000_000;

    /// <summary>The first retry waits this long; each next one twice as long, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A run that logs nothing for this long (a long epoch, an evaluation) sends a heartbeat, so the server does not mark it
    /// crashed (after <c>Runs:HeartbeatTimeout</c>, 10 minutes by default); every accepted batch counts as one too.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long disposing waits for the buffered points to reach the server before finishing the run anyway.</summary>
    public TimeSpan DisposeTimeout { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// A running run that logs metrics without blocking the training loop: <see cref="Log"/> only appends to a bounded
/// in-memory buffer; a background task sends batches (each with a fixed batch id, so a retry after a lost answer or a
/// server restart stores nothing twice), retrying with exponential backoff while the server is unreachable, and sends a
/// heartbeat when nothing was sent for <see cref="RunSessionOptions.HeartbeatInterval"/>. Disposing sends what is left
/// and ends the run (finished, or what <see cref="EndAs"/> set).
/// </summary>
public sealed class RunSession : IAsyncDisposable
{
    private readonly BerthClient _client;
    private readonly RunSessionOptions _options;
    private readonly bool _finishOnDispose;
    private readonly ConcurrentQueue<MetricPointInput> _queue = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sender;
    private int _buffered;
    private long _dropped;
    private long _sent;
    private string _endStatus = RunStatuses.Finished;
    private volatile bool _draining;
    private int _disposed;

    internal RunSession(BerthClient client, RunInfo run, RunSessionOptions options, bool finishOnDispose = true)
    {
        _client = client;
        Run = run;
        _options = options;
        _finishOnDispose = finishOnDispose;
        _sender = Task.Run(SendLoopAsync);
    }

    /// <summary>The run as it was started.</summary>
    public RunInfo Run { get; }

    public string Id => Run.Id;

    /// <summary>The run as it ended, once disposed (as the server ended it, when it had already: <see cref="LastError"/> then says so).</summary>
    public RunInfo? Final { get; private set; }

    /// <summary>Points dropped because the buffer was full (<see cref="RunSessionOptions.MaxBufferedPoints"/>).</summary>
    public long DroppedPoints => Interlocked.Read(ref _dropped);

    /// <summary>Points the server has acknowledged.</summary>
    public long SentPoints => Interlocked.Read(ref _sent);

    /// <summary>The last error of a send that will be retried, if the latest send failed.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Buffers one point (time: now); returns at once.</summary>
    public void Log(string key, double value, long step)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Interlocked.Increment(ref _buffered) > _options.MaxBufferedPoints)
        {
            Interlocked.Decrement(ref _buffered);
            Interlocked.Increment(ref _dropped);
            return;
        }

        _queue.Enqueue(new MetricPointInput(key, step, value, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        if (Volatile.Read(ref _buffered) == _options.FlushPoints)
        {
            _wake.Release();
        }
    }

    /// <summary>
    /// Uploads a folder (or one file) as files of this run (checkpoints, plots, logs): only the bytes the server lacks,
    /// in parallel and resumable, like a push (<see cref="BerthClient.UploadRunFilesAsync"/>).
    /// </summary>
    public Task<RunFilesResult> UploadFilesAsync(string path, CancellationToken cancellationToken = default) =>
        _client.UploadRunFilesAsync(Run.Namespace, Run.Model, Run.Id, path, cancellationToken: cancellationToken);

    /// <summary>Registers this run as a ready version of its model from its files (<see cref="BerthClient.RegisterRunAsync"/>).</summary>
    public Task<VersionInfo> RegisterAsync(RegisterRunRequest request, CancellationToken cancellationToken = default) =>
        _client.RegisterRunAsync(Run.Namespace, Run.Model, Run.Id, request, cancellationToken);

    /// <summary>How the run ends when disposed: finished (default), failed or killed.</summary>
    public void EndAs(string status) => _endStatus = status;

    private async Task SendLoopAsync()
    {
        List<MetricPointInput>? pending = null;
        string? batchId = null;
        var delay = _options.RetryDelay;
        var lastContact = TimeProvider.System.GetTimestamp();
        var beating = true;
        while (true)
        {
            if (pending is null)
            {
                if (_queue.IsEmpty)
                {
                    if (_draining || _stop.IsCancellationRequested)
                    {
                        return;
                    }

                    try
                    {
                        var wait = beating ? Min(_options.FlushInterval, _options.HeartbeatInterval - TimeProvider.System.GetElapsedTime(lastContact)) : _options.FlushInterval;
                        if (!await _wake.WaitAsync(Max(wait, TimeSpan.Zero), _stop.Token).ConfigureAwait(false) &&
                            beating && TimeProvider.System.GetElapsedTime(lastContact) >= _options.HeartbeatInterval)
                        {
                            beating = await HeartbeatAsync().ConfigureAwait(false);
                            lastContact = TimeProvider.System.GetTimestamp();
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                pending = new List<MetricPointInput>(Math.Min(_options.BatchPoints, _queue.Count));
                while (pending.Count < _options.BatchPoints && _queue.TryDequeue(out var point))
                {
                    pending.Add(point);
                }

                batchId = Guid.NewGuid().ToString("N");
            }

            var batch = pending;
            try
            {
                await _client.LogMetricsAsync(Run.Namespace, Run.Model, Run.Id, new MetricBatch(batch, batchId), _stop.Token).ConfigureAwait(false);
                Interlocked.Add(ref _sent, batch.Count);
                Interlocked.Add(ref _buffered, -batch.Count);
                pending = null;
                LastError = null;
                lastContact = TimeProvider.System.GetTimestamp();
                delay = _options.RetryDelay;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (BerthProblemException e) when (e.Status is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout))
            {
                // Refused for good (ended run, bad key …): retrying would not help; drop the batch and say so.
                LastError = e;
                Interlocked.Add(ref _dropped, batch.Count);
                Interlocked.Add(ref _buffered, -batch.Count);
                pending = null;
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException or BerthProblemException or IOException)
            {
                LastError = e;
                try
                {
                    await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>One heartbeat; false once the run has ended (no more are sent). A failure is kept in <see cref="LastError"/>.</summary>
    private async Task<bool> HeartbeatAsync()
    {
        try
        {
            await _client.HeartbeatRunAsync(Run.Namespace, Run.Model, Run.Id, _stop.Token).ConfigureAwait(false);
            return true;
        }
        catch (BerthProblemException e) when (e.Code == ErrorCodes.RunEnded.Code)
        {
            LastError = e;
            return false;
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or BerthProblemException or IOException)
        {
            LastError = e;
            return true;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Waits until every point logged so far has been acknowledged by the server (or <paramref name="cancellationToken"/> ends the wait).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        _wake.Release();
        while (Volatile.Read(ref _buffered) > 0 && !_sender.IsCompleted)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _draining = true;
        _wake.Release();
        using (var timeout = new CancellationTokenSource(_options.DisposeTimeout))
        {
            try
            {
                await _sender.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The server did not take the rest in time: stop trying and end the run all the same.
            }
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _sender.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_finishOnDispose)
        {
            try
            {
                Final = await _client.FinishRunAsync(Run.Namespace, Run.Model, Run.Id, _endStatus).ConfigureAwait(false);
            }
            catch (BerthProblemException e) when (e.Code == ErrorCodes.RunEnded.Code)
            {
                // The server ended it first (crashed after a silence longer than its heartbeat timeout, or ended by
                // someone else): that end stands, as `berth run exec` reports it; throwing here would hide the training's outcome.
                LastError = e;
                Final = await _client.GetRunAsync(Run.Namespace, Run.Model, Run.Id).ConfigureAwait(false);
            }
        }

        _stop.Dispose();
        _wake.Dispose();
    }
}
