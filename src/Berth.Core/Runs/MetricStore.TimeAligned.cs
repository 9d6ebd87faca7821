using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Runs;

public sealed partial class MetricStore
{
    /// <summary>How many (step, time) samples a time-aligned comparison reads of each series to place its chunks in time.</summary>
    internal const int ClockSamples = 4096;

    /// <summary>
    /// Up to <see cref="MaxCompareRuns"/> runs on up to <see cref="MaxCompareKeys"/> keys aligned on <b>time</b>: the x of
    /// a point is the time since its run started (milliseconds), so runs that went at different speeds line up by wall
    /// clock. One range of elapsed time (<paramref name="from"/>, <paramref name="to"/>; default: from the earliest first
    /// point to the latest last one over all series) is cut into the same buckets for every series; raw points when no
    /// series has more than <paramref name="buckets"/> there. A chunk (≤ 256 points) whose time span fits in one bucket is
    /// counted whole from its summary, placed by the times of its first and last step read from the run's clock (exact
    /// at the sampled chunks, interpolated between them); any other chunk is decoded and its points bucketed by their own
    /// times.
    /// </summary>
    private async Task<SeriesSet> CompareByTimeAsync(string ns, string model, IReadOnlyList<string> ids, IReadOnlyList<string> keys, int n, long? from, long? to, CancellationToken cancellationToken)
    {
        if (from is < 0 || to is < 0)
        {
            Fail.With(ErrorCodes.InvalidRequest, "Aligned on time, from and to are milliseconds since each run's start (0 or more).");
        }

        var clock = new RunClock(db);
        var wanted = new List<TimedSeries>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            var (runId, _) = await runs.FindAsync(ns, model, id, cancellationToken);
            var started = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => r.StartedAt).SingleAsync(cancellationToken);
            var origin = new DateTimeOffset(DateTime.SpecifyKind(started, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
            foreach (var key in keys.Distinct(StringComparer.Ordinal))
            {
                var chunks = await SummariesAsync(runId, key, null, null, cancellationToken);
                var samples = chunks.Count == 0 ? [] : await clock.SampleAsync(runId, key, null, null, ClockSamples, cancellationToken);
                wanted.Add(new TimedSeries(id, runId, key, origin, chunks, samples));
            }
        }

        var present = wanted.Where(w => w.Chunks.Count > 0 && w.Samples.Count > 0).ToList();
        long? lo = from ?? (present.Count == 0 ? null : present.Min(w => w.Elapsed(w.Chunks.Min(c => c.FirstStep))));
        long? hi = to ?? (present.Count == 0 ? null : present.Max(w => w.Elapsed(w.Chunks.Max(c => c.LastStep))));
        if (lo is null || hi is null || lo > hi)
        {
            return new SeriesSet(lo, hi, null, wanted.Select(w => new MetricSeries(w.Id, w.Key, 0, [], null, Origin: w.Origin)).ToList(), "time");
        }

        var l = lo.Value;
        var h = hi.Value;
        var raw = wanted.All(w => w.Overlapping(l, h).Sum(c => (long)c.Count) <= n);
        var width = raw ? (long?)null : BucketWidth(l, h, n);
        var result = new List<MetricSeries>();
        foreach (var w in wanted)
        {
            result.Add(await TimedSeriesAsync(w, l, h, width, cancellationToken));
        }

        return new SeriesSet(lo, hi, width, result, "time");
    }

    private async Task<MetricSeries> TimedSeriesAsync(TimedSeries w, long l, long h, long? width, CancellationToken cancellationToken)
    {
        var overlapping = w.Overlapping(l, h).ToList();
        if (width is null)
        {
            var points = await DecodeAsync(overlapping.Select(c => c.Id).ToList(), cancellationToken);
            points.RemoveAll(p => p.Time - w.Origin < l || p.Time - w.Origin > h);
            points.Sort(MetricPoint.Compare);
            return new MetricSeries(w.Id, w.Key, points.Count, points.Select(p => new SeriesPoint(p.Step, p.Time, p.Value)).ToList(), null, Origin: w.Origin);
        }

        var bw = width.Value;
        var count = (int)(((decimal)h - l) / bw) + 1;
        var buckets = new TimeBucket[count];
        int Index(long elapsed) => (int)(((decimal)elapsed - l) / bw);
        var decode = new List<long>();
        foreach (var c in overlapping)
        {
            var first = w.Elapsed(c.FirstStep);
            var last = w.Elapsed(c.LastStep);
            if (first >= l && last <= h && Index(first) == Index(last))
            {
                (buckets[Index(first)] ??= new TimeBucket()).Add(c.FirstStep, c.LastStep, first, last, c.Count, c.Min, c.Max, null);
            }
            else
            {
                decode.Add(c.Id);
            }
        }

        if (decode.Count > 0)
        {
            foreach (var p in await DecodeAsync(decode, cancellationToken))
            {
                var elapsed = p.Time - w.Origin;
                if (elapsed >= l && elapsed <= h)
                {
                    var value = double.IsNaN(p.Value) ? (double?)null : p.Value;
                    (buckets[Index(elapsed)] ??= new TimeBucket()).Add(p.Step, p.Step, elapsed, elapsed, 1, value, value, value);
                }
            }
        }

        var result = buckets.Where(b => b is not null)
            .Select(b => new MetricBucket(b!.FirstStep, b.LastStep, b.Count, b.Min, b.Max, b.Last, b.FirstTime, b.LastTime)).ToList();
        return new MetricSeries(w.Id, w.Key, result.Sum(b => b.Count), null, result, Origin: w.Origin);
    }

    /// <summary>A series to align on time: its run's start (Unix milliseconds), its chunk summaries and (step, time) samples.</summary>
    private sealed record TimedSeries(string Id, long RunId, string Key, long Origin, List<ChunkSummary> Chunks, IReadOnlyList<(long Step, long Time)> Samples)
    {
        /// <summary>Milliseconds from the run's start to <paramref name="step"/>: exact at sampled steps, interpolated between them.</summary>
        public long Elapsed(long step)
        {
            var samples = Samples;
            if (step <= samples[0].Step)
            {
                return samples[0].Time - Origin;
            }

            if (step >= samples[^1].Step)
            {
                return samples[^1].Time - Origin;
            }

            int lo = 0, hi = samples.Count - 1;
            while (hi - lo > 1)
            {
                var mid = (lo + hi) / 2;
                if (samples[mid].Step <= step)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid;
                }
            }

            var (s0, t0) = samples[lo];
            var (s1, t1) = samples[hi];
            return t0 + (long)Math.Round((double)(t1 - t0) * (step - s0) / (s1 - s0)) - Origin;
        }

        /// <summary>The chunks whose (estimated) time span meets [<paramref name="lo"/>, <paramref name="hi"/>].</summary>
        public IEnumerable<ChunkSummary> Overlapping(long lo, long hi) =>
            Samples.Count == 0 ? [] : Chunks.Where(c => Elapsed(c.LastStep) >= lo && Elapsed(c.FirstStep) <= hi);
    }

    private sealed class TimeBucket
    {
        public long FirstStep { get; private set; } = long.MaxValue;
        public long LastStep { get; private set; } = long.MinValue;
        public long FirstTime { get; private set; } = long.MaxValue;
        public long LastTime { get; private set; } = long.MinValue;
        public long Count { get; private set; }
        public double? Min { get; private set; }
        public double? Max { get; private set; }
        public double? Last { get; private set; }

        public void Add(long firstStep, long lastStep, long firstTime, long lastTime, long count, double? min, double? max, double? last)
        {
            FirstStep = Math.Min(FirstStep, firstStep);
            FirstTime = Math.Min(FirstTime, firstTime);
            if (lastTime >= LastTime)
            {
                LastTime = lastTime;
                LastStep = Math.Max(LastStep, lastStep);
                Last = last;
            }
            else
            {
                LastStep = Math.Max(LastStep, lastStep);
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
