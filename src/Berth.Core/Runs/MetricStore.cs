using System.Security.Cryptography;
using System.Text;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Common;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Runs;

/// <summary>
/// Metric series of runs, stored as chunks (<see cref="MetricChunk"/>) with per-chunk summaries: idempotent batch
/// ingestion, min/max downsampling from the summaries, raw reads with keyset paging, and comparisons aligned on step or
/// (MetricStore.TimeAligned.cs) on time.
/// The design and its reasons are in docs/runs.md.
/// </summary>
public sealed partial class MetricStore(RegistryDbContext db, RunService runs, IOptions<RunOptions> options, TimeProvider clock)
{
    public const int DefaultBuckets = 1000;
    public const int MaxBuckets = 10_000;
    public const int MaxCompareRuns = 20;
    public const int MaxCompareKeys = 10;
    public const int MaxRawLimit = 10_000;

    /// <summary>More small chunks than this in one series, and the next batch that adds one merges them.</summary>
    internal const int SmallChunksBeforeMerge = 64;

    /// <summary>
    /// Stores a batch of points in a running run, all or nothing. A batch whose id the run already stored stores
    /// nothing and says so. Refused whole: more than <see cref="RunOptions.MaxBatchPoints"/> points
    /// (<c>batch_too_large</c>), a bad key (<c>invalid_name</c>), an ended run (<c>run_ended</c>).
    /// </summary>
    public async Task<MetricBatchResult> IngestAsync(string ns, string model, string id, MetricBatch batch, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxBatchPoints;
        if (batch.Points.Count > limit)
        {
            Fail.With(ErrorCodes.BatchTooLarge, $"The batch has {batch.Points.Count} points; the limit is {limit} points per batch (Runs:MaxBatchPoints). Send it as several batches.",
                new Dictionary<string, object?> { ["limit"] = "Runs:MaxBatchPoints", ["max"] = limit });
        }

        if (batch.Points.Any(p => p is null))
        {
            Fail.With(ErrorCodes.InvalidJson, "points must be point objects, not null.");
        }

        if (batch.Points.Count == 0)
        {
            Fail.With(ErrorCodes.InvalidRequest, "The batch has no points.");
        }

        if (batch.BatchId is { } given && (given.Length is < 1 or > 64 || !given.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            Fail.With(ErrorCodes.InvalidRequest, "batchId must be 1-64 characters of letters, digits, '-' and '_' (a UUID, say).");
        }

        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var point in batch.Points)
        {
            if (keys.Add(point.Key))
            {
                RunService.Key("metric", point.Key);
            }
        }

        var batchId = batch.BatchId ?? ContentId(batch.Points);
        var (runId, status) = await runs.FindAsync(ns, model, id, cancellationToken);
        if (status != RunStatus.Running)
        {
            throw RunService.Ended(id, status);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var nowMs = new DateTimeOffset(now, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var series = new Dictionary<string, List<MetricPoint>>(StringComparer.Ordinal);
        foreach (var point in batch.Points)
        {
            if (!series.TryGetValue(point.Key, out var list))
            {
                series[point.Key] = list = [];
            }

            list.Add(new MetricPoint(point.Step, point.Time ?? nowMs, point.Value));
        }

        foreach (var list in series.Values)
        {
            list.Sort(MetricPoint.Compare);
        }

        var stored = await db.InTransactionWithRetryAsync(async ct =>
        {
            // The run's row lock orders this batch with every other batch, heartbeat and end of the run.
            var run = await db.LockedRow<Run>(runId).AsNoTracking().SingleAsync(ct);
            if (run.Status != RunStatus.Running)
            {
                throw RunService.Ended(id, run.Status);
            }

            if (await db.RunBatches.AnyAsync(b => b.RunId == runId && b.BatchId == batchId, ct))
            {
                return false;
            }

            var summaries = await db.RunMetrics.Where(m => m.RunId == runId && keys.Contains(m.Key)).ToDictionaryAsync(m => m.Key, StringComparer.Ordinal, ct);
            foreach (var (key, points) in series)
            {
                var toStore = points;
                if (points.Count % MetricChunk.MaxPoints is > 0 and < MetricChunk.SmallPoints)
                {
                    toStore = await MergeSmallChunksAsync(runId, key, points, ct);
                }

                db.RunMetricChunks.AddRange(MetricChunk.Cut(runId, key, toStore));
                if (!summaries.TryGetValue(key, out var summary))
                {
                    summary = new RunMetric { RunId = runId, Key = key, LastStep = long.MinValue, LastTime = long.MinValue };
                    db.RunMetrics.Add(summary);
                }

                Summarise(summary, points);
            }

            db.RunBatches.Add(new RunBatch { RunId = runId, BatchId = batchId, Points = batch.Points.Count, ReceivedAt = now });
            await db.SaveChangesAsync(ct);
            await db.Runs.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.HeartbeatAt, now), ct);
            return true;
        }, cancellationToken);
        db.ChangeTracker.Clear();
        return new MetricBatchResult(batchId, stored ? batch.Points.Count : 0, !stored);
    }

    /// <summary>
    /// When the series already has more than <see cref="SmallChunksBeforeMerge"/> small chunks, removes them and
    /// returns their points merged with <paramref name="points"/> (sorted), to be cut into full chunks.
    /// </summary>
    private async Task<List<MetricPoint>> MergeSmallChunksAsync(long runId, string key, List<MetricPoint> points, CancellationToken cancellationToken)
    {
        var small = db.RunMetricChunks.Where(c => c.RunId == runId && c.Key == key && c.Count < MetricChunk.SmallPoints);
        if (await small.CountAsync(cancellationToken) < SmallChunksBeforeMerge)
        {
            return points;
        }

        var chunks = await small.ToListAsync(cancellationToken);
        var merged = new List<MetricPoint>(points);
        foreach (var chunk in chunks)
        {
            MetricChunk.Decode(chunk.Data, merged);
        }

        db.RunMetricChunks.RemoveRange(chunks);
        merged.Sort(MetricPoint.Compare);
        return merged;
    }

    private static void Summarise(RunMetric summary, List<MetricPoint> sorted)
    {
        summary.Count += sorted.Count;
        var last = sorted[^1];
        if (last.Step > summary.LastStep || (last.Step == summary.LastStep && last.Time >= summary.LastTime))
        {
            summary.LastStep = last.Step;
            summary.LastTime = last.Time;
            summary.Last = double.IsNaN(last.Value) ? null : last.Value;
        }

        foreach (var point in sorted)
        {
            if (!double.IsNaN(point.Value))
            {
                summary.Min = summary.Min is { } min && min <= point.Value ? min : point.Value;
                summary.Max = summary.Max is { } max && max >= point.Value ? max : point.Value;
            }
        }
    }

    /// <summary>The id of a batch sent without one: the SHA-256 of its points (key, step, time if given, value bits), in order.</summary>
    private static string ContentId(IReadOnlyList<MetricPointInput> points)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> numbers = stackalloc byte[25];
        foreach (var point in points)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(point.Key));
            BitConverter.TryWriteBytes(numbers, point.Step);
            BitConverter.TryWriteBytes(numbers[8..], point.Time ?? 0);
            numbers[16] = point.Time is null ? (byte)0 : (byte)1;
            BitConverter.TryWriteBytes(numbers[17..], BitConverter.DoubleToInt64Bits(point.Value));
            hash.AppendData(numbers);
        }

        return "sha256-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    /// <summary>
    /// One series of a run over [<paramref name="from"/>, <paramref name="to"/>] (default: all of it): its points when
    /// there are no more than <paramref name="buckets"/>, else min/max buckets.
    /// </summary>
    public async Task<SeriesSet> ReadAsync(string ns, string model, string id, string key, int? buckets, long? from, long? to, CancellationToken cancellationToken)
    {
        var n = CheckBuckets(buckets);
        RunService.Key("metric", key);
        CheckRange(from, to);
        var (runId, _) = await runs.FindAsync(ns, model, id, cancellationToken);
        var stats = await StatsAsync(runId, key, from, to, cancellationToken);
        var (lo, hi) = Range([stats], from, to);
        var raw = stats.Count <= n;
        var width = raw || lo is null ? (long?)null : BucketWidth(lo.Value, hi!.Value, n);
        var series = await SeriesAsync(id, runId, key, stats, lo, hi, width, cancellationToken);
        return new SeriesSet(lo, hi, width, [series]);
    }

    /// <summary>
    /// Up to <see cref="MaxCompareRuns"/> runs of a model on up to <see cref="MaxCompareKeys"/> keys, over one step
    /// range cut into the same buckets for every series (aligned on step); raw points when no series has more than
    /// <paramref name="buckets"/>.
    /// </summary>
    public Task<SeriesSet> CompareAsync(string ns, string model, IReadOnlyList<string> ids, IReadOnlyList<string> keys, int? buckets, long? from, long? to, CancellationToken cancellationToken) =>
        CompareAsync(ns, model, ids, keys, buckets, from, to, align: null, cancellationToken);

    /// <summary>
    /// As <see cref="CompareAsync(string, string, IReadOnlyList{string}, IReadOnlyList{string}, int?, long?, long?, CancellationToken)"/>,
    /// aligned on <paramref name="align"/>: <c>step</c> (the default) or <c>time</c> (milliseconds since each run's start;
    /// <paramref name="from"/> and <paramref name="to"/> are then such times).
    /// </summary>
    public async Task<SeriesSet> CompareAsync(string ns, string model, IReadOnlyList<string> ids, IReadOnlyList<string> keys, int? buckets, long? from, long? to, string? align, CancellationToken cancellationToken)
    {
        var n = CheckBuckets(buckets);
        CheckRange(from, to);
        if (align is not (null or "step" or "time"))
        {
            Fail.With(ErrorCodes.InvalidRequest, $"align must be 'step' (the default) or 'time', not '{Contracts.Naming.Names.Show(align)}'.");
        }

        if (ids.Count is 0 or > MaxCompareRuns)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"Compare 1 to {MaxCompareRuns} runs (runs=id,id,…); got {ids.Count}.");
        }

        if (keys.Count is 0 or > MaxCompareKeys)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"Compare on 1 to {MaxCompareKeys} metrics (keys=loss,auc,…); got {keys.Count}.");
        }

        foreach (var key in keys)
        {
            RunService.Key("metric", key);
        }

        if (align == "time")
        {
            return await CompareByTimeAsync(ns, model, ids, keys, n, from, to, cancellationToken);
        }

        var wanted = new List<(string Id, long RunId, string Key, SeriesStats Stats)>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            var (runId, _) = await runs.FindAsync(ns, model, id, cancellationToken);
            foreach (var key in keys.Distinct(StringComparer.Ordinal))
            {
                wanted.Add((id, runId, key, await StatsAsync(runId, key, from, to, cancellationToken)));
            }
        }

        var (lo, hi) = Range(wanted.Select(w => w.Stats).ToList(), from, to);
        var raw = wanted.All(w => w.Stats.Count <= n);
        var width = raw || lo is null ? (long?)null : BucketWidth(lo.Value, hi!.Value, n);
        var result = new List<MetricSeries>();
        foreach (var (id, runId, key, stats) in wanted)
        {
            result.Add(await SeriesAsync(id, runId, key, stats, lo, hi, width, cancellationToken));
        }

        return new SeriesSet(lo, hi, width, result, "step");
    }

    /// <summary>
    /// The points of a series in order (step, time, value), <paramref name="paging"/>'s limit at a time (at most
    /// <see cref="MaxRawLimit"/>); the cursor is the last point's step and how many points of that step were served.
    /// </summary>
    public async Task<Page<SeriesPoint>> ReadRawAsync(string ns, string model, string id, string key, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxRawLimit)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"limit must be between 1 and {MaxRawLimit}.");
        }

        var take = limit ?? 1000;
        RunService.Key("metric", key);
        var paging = new Paging(null, cursor);
        long afterStep = long.MinValue;
        var skip = 0L;
        if (paging.Parts is { } parts)
        {
            if (parts.Count != 3 || parts[0] != "raw")
            {
                throw new RegistryException(ErrorCodes.InvalidCursor, "The cursor is not one this server handed out for raw points; start again without a cursor.");
            }

            afterStep = Paging.ParseLong(parts[1]);
            skip = Paging.ParseLong(parts[2]);
        }

        var (runId, _) = await runs.FindAsync(ns, model, id, cancellationToken);
        var chunks = await SummariesAsync(runId, key, afterStep == long.MinValue ? null : afterStep, null, cancellationToken);

        // Chunks in first-step order until they hold skip + take + 1 points at or after the cursor, plus every chunk that
        // starts before the last step those reach (chunks of concurrent writers overlap), decoded a round at a time.
        var needed = skip + take + 1;
        var points = new List<MetricPoint>();
        var nextChunk = 0;
        long reach = long.MinValue;
        while (nextChunk < chunks.Count && points.Count < needed)
        {
            var round = new List<long>();
            long counted = points.Count;
            while (nextChunk < chunks.Count && (counted < needed || chunks[nextChunk].FirstStep <= reach))
            {
                round.Add(chunks[nextChunk].Id);
                counted += chunks[nextChunk].Count;
                reach = Math.Max(reach, chunks[nextChunk].LastStep);
                nextChunk++;
            }

            var decoded = await DecodeAsync(round, cancellationToken);
            decoded.RemoveAll(p => p.Step < afterStep);
            points.AddRange(decoded);
        }

        // Every chunk that could hold a point up to the last step reached is in: take them all before sorting.
        while (nextChunk < chunks.Count && chunks[nextChunk].FirstStep <= reach)
        {
            var decoded = await DecodeAsync([chunks[nextChunk].Id], cancellationToken);
            decoded.RemoveAll(p => p.Step < afterStep);
            points.AddRange(decoded);
            reach = Math.Max(reach, chunks[nextChunk].LastStep);
            nextChunk++;
        }

        points.Sort(MetricPoint.Compare);
        var start = 0;
        while (start < points.Count && start < skip && points[start].Step == afterStep)
        {
            start++;
        }

        var page = points.Skip(start).Take(take + 1).ToList();
        string? next = null;
        if (page.Count > take)
        {
            page.RemoveAt(take);
            var lastStep = page[^1].Step;
            var sameStep = page.Count(p => p.Step == lastStep) + (lastStep == afterStep ? start : 0);
            next = Paging.Encode("raw", lastStep, sameStep);
        }

        return new Page<SeriesPoint>(page.Select(p => new SeriesPoint(p.Step, p.Time, p.Value)).ToList(), next);
    }

    private static int CheckBuckets(int? buckets)
    {
        if (buckets is < 1 or > MaxBuckets)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"buckets must be between 1 and {MaxBuckets}.");
        }

        return buckets ?? DefaultBuckets;
    }

    private static void CheckRange(long? from, long? to)
    {
        if (from is { } f && to is { } t && f > t)
        {
            Fail.With(ErrorCodes.InvalidRequest, "from must not be after to.");
        }
    }

    private static long BucketWidth(long lo, long hi, int n)
    {
        var span = (decimal)hi - lo + 1;
        return (long)Math.Max(1m, Math.Ceiling(span / n));
    }

    private static (long? Lo, long? Hi) Range(List<SeriesStats> stats, long? from, long? to)
    {
        var present = stats.Where(s => s.Count > 0).ToList();
        return present.Count == 0
            ? (from, to)
            : (from ?? present.Min(s => s.FirstStep), to ?? present.Max(s => s.LastStep));
    }

    /// <summary>The first and last step and the point count of the chunks of a series that overlap [from, to] (one aggregate over the covering index).</summary>
    internal sealed record SeriesStats(long FirstStep, long LastStep, long Count);

    private async Task<SeriesStats> StatsAsync(long runId, string key, long? from, long? to, CancellationToken cancellationToken)
    {
        var lo = from ?? long.MinValue;
        var hi = to ?? long.MaxValue;
        var stats = await db.RunMetricChunks.AsNoTracking()
            .Where(c => c.RunId == runId && c.Key == key && c.LastStep >= lo && c.FirstStep <= hi)
            .GroupBy(c => c.RunId)
            .Select(g => new SeriesStats(g.Min(c => c.FirstStep), g.Max(c => c.LastStep), g.Sum(c => (long)c.Count)))
            .FirstOrDefaultAsync(cancellationToken);
        return stats ?? new SeriesStats(0, 0, 0);
    }

    internal sealed record ChunkSummary(long Id, long FirstStep, long LastStep, int Count, double? Min, double? Max, double? Last);

    /// <summary>The summaries of the series' chunks that overlap [from, to], in first-step order: from the covering index alone.</summary>
    private Task<List<ChunkSummary>> SummariesAsync(long runId, string key, long? from, long? to, CancellationToken cancellationToken)
    {
        var lo = from ?? long.MinValue;
        var hi = to ?? long.MaxValue;
        return db.RunMetricChunks.AsNoTracking()
            .Where(c => c.RunId == runId && c.Key == key && c.LastStep >= lo && c.FirstStep <= hi)
            .OrderBy(c => c.FirstStep)
            .Select(c => new ChunkSummary(c.Id, c.FirstStep, c.LastStep, c.Count, c.Min, c.Max, c.Last))
            .ToListAsync(cancellationToken);
    }

    private async Task<List<MetricPoint>> DecodeAsync(List<long> ids, CancellationToken cancellationToken)
    {
        var points = new List<MetricPoint>();
        foreach (var part in ids.Chunk(500))
        {
            foreach (var data in await db.RunMetricChunks.AsNoTracking().Where(c => part.Contains(c.Id)).Select(c => c.Data).ToListAsync(cancellationToken))
            {
                MetricChunk.Decode(data, points);
            }
        }

        return points;
    }

    private async Task<MetricSeries> SeriesAsync(string id, long runId, string key, SeriesStats stats, long? lo, long? hi, long? width, CancellationToken cancellationToken)
    {
        if (lo is null || hi is null || stats.Count == 0)
        {
            return new MetricSeries(id, key, 0, [], null);
        }

        var l = lo.Value;
        var h = hi.Value;
        var chunks = db.RunMetricChunks.AsNoTracking().Where(c => c.RunId == runId && c.Key == key && c.LastStep >= l && c.FirstStep <= h);
        if (width is null)
        {
            var points = await DecodeAsync(await chunks.Select(c => c.Id).ToListAsync(cancellationToken), cancellationToken);
            points.RemoveAll(p => p.Step < l || p.Step > h);
            points.Sort(MetricPoint.Compare);
            return new MetricSeries(id, key, points.Count, points.Select(p => new SeriesPoint(p.Step, p.Time, p.Value)).ToList(), null);
        }

        var w = width.Value;
        var count = (int)(((decimal)h - l) / w) + 1;
        var buckets = new Bucket[count];

        // Chunks inside the range and narrower than a bucket count whole in the bucket of their middle step: the
        // database aggregates their summaries per bucket from the covering index, so only buckets travel.
        var narrow = await chunks.Where(c => c.FirstStep >= l && c.LastStep <= h && c.LastStep - c.FirstStep < w)
            .GroupBy(c => (c.FirstStep + ((c.LastStep - c.FirstStep) / 2) - l) / w)
            .Select(g => new { Index = g.Key, First = g.Min(c => c.FirstStep), Last = g.Max(c => c.LastStep), Count = g.Sum(c => (long)c.Count), Min = g.Min(c => c.Min), Max = g.Max(c => c.Max) })
            .ToListAsync(cancellationToken);
        foreach (var g in narrow)
        {
            (buckets[(int)g.Index] ??= new Bucket()).Add(g.First, g.Last, g.Count, g.Min, g.Max, null);
        }

        // The others (wider than a bucket, or cut by the range) are decoded and bucketed point by point.
        var wide = await chunks.Where(c => !(c.FirstStep >= l && c.LastStep <= h && c.LastStep - c.FirstStep < w)).Select(c => c.Id).ToListAsync(cancellationToken);
        if (wide.Count > 0)
        {
            foreach (var point in await DecodeAsync(wide, cancellationToken))
            {
                if (point.Step >= l && point.Step <= h)
                {
                    var value = double.IsNaN(point.Value) ? (double?)null : point.Value;
                    (buckets[Index(point.Step)] ??= new Bucket()).Add(point.Step, point.Step, 1, value, value, value);
                }
            }
        }

        var result = buckets.Where(b => b is not null).Select(b => new MetricBucket(b!.FirstStep, b.LastStep, b.Count, b.Min, b.Max, b.Last)).ToList();
        return new MetricSeries(id, key, result.Sum(b => b.Count), null, result);

        int Index(long step) => (int)(((decimal)step - l) / w);
    }

    private sealed class Bucket
    {
        public long FirstStep { get; private set; } = long.MaxValue;
        public long LastStep { get; private set; } = long.MinValue;
        public long Count { get; private set; }
        public double? Min { get; private set; }
        public double? Max { get; private set; }
        public double? Last { get; private set; }

        public void Add(long first, long last, long count, double? min, double? max, double? lastValue)
        {
            FirstStep = Math.Min(FirstStep, first);
            if (last >= LastStep)
            {
                LastStep = last;
                Last = lastValue;
            }

            Count += count;
            if (min is { } m && (Min is null || m < Min))
            {
                Min = m;
            }

            if (max is { } x && (Max is null || x > Max))
            {
                Max = x;
            }
        }
    }
}
