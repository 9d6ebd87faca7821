using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Runs;

/// <summary>
/// When a run reached its steps, for charts whose x axis is time: downsampled buckets carry steps, not times, so this
/// decodes a few chunks of one series spread over the range (each is up to 256 consecutive points with their times)
/// and answers their (step, time) pairs. Between two samples a chart interpolates; at the sampled chunks it is exact.
/// Two queries: the chunk ids of the range (from the covering index), then the sampled chunks' bytes.
/// </summary>
public sealed class RunClock(RegistryDbContext db)
{
    /// <summary>How many chunks a sample decodes at most (about 16,000 points, a few hundred KB).</summary>
    public const int DefaultChunks = 64;

    /// <summary>
    /// (step, time) pairs of run <paramref name="runId"/>'s series <paramref name="key"/> over [<paramref name="from"/>,
    /// <paramref name="to"/>], in step order, one per step (its earliest time), at most <paramref name="maxPairs"/>;
    /// time in milliseconds since the Unix epoch. Empty when the series has no point there.
    /// </summary>
    public async Task<IReadOnlyList<(long Step, long Time)>> SampleAsync(long runId, string key, long? from, long? to, int maxPairs, CancellationToken cancellationToken)
    {
        var lo = from ?? long.MinValue;
        var hi = to ?? long.MaxValue;
        var chunks = await db.RunMetricChunks.AsNoTracking()
            .Where(c => c.RunId == runId && c.Key == key && c.LastStep >= lo && c.FirstStep <= hi)
            .OrderBy(c => c.FirstStep).ThenBy(c => c.Id)
            .Select(c => c.Id).ToListAsync(cancellationToken);
        if (chunks.Count == 0)
        {
            return [];
        }

        var picked = chunks.Count <= DefaultChunks
            ? chunks
            : Enumerable.Range(0, DefaultChunks).Select(i => chunks[(int)((long)i * (chunks.Count - 1) / (DefaultChunks - 1))]).Distinct().ToList();
        var points = new List<MetricPoint>();
        foreach (var data in await db.RunMetricChunks.AsNoTracking().Where(c => picked.Contains(c.Id)).Select(c => c.Data).ToListAsync(cancellationToken))
        {
            MetricChunk.Decode(data, points);
        }

        points.RemoveAll(p => p.Step < lo || p.Step > hi);
        points.Sort(MetricPoint.Compare);
        var pairs = new List<(long Step, long Time)>(points.Count);
        foreach (var p in points)
        {
            if (pairs.Count == 0 || pairs[^1].Step != p.Step)
            {
                pairs.Add((p.Step, p.Time));
            }
        }

        if (pairs.Count <= maxPairs || maxPairs < 2)
        {
            return pairs;
        }

        return Enumerable.Range(0, maxPairs).Select(i => pairs[(int)((long)i * (pairs.Count - 1) / (maxPairs - 1))]).ToList();
    }
}
