using System.Buffers.Binary;
using Berth.Core.Data.Entities;

namespace Berth.Core.Runs;

/// <summary>
/// The binary form of a chunk of a metric series: a format byte, the point count as a varint, then per point the
/// step and the time as zig-zag varint deltas from the previous point (the first from zero) and the value as its
/// 8 IEEE-754 bytes, little-endian (NaN and the infinities round-trip bit for bit). Points are sorted by
/// <see cref="MetricPoint.Compare"/>. A point of a dense series costs 10–11 bytes.
/// </summary>
public static class MetricChunk
{
    /// <summary>The most points one chunk holds.</summary>
    public const int MaxPoints = 256;

    /// <summary>A chunk with fewer points than this is small: enough small chunks of one series are merged.</summary>
    public const int SmallPoints = 64;

    private const byte Format = 1;

    /// <summary>Cuts sorted points into chunk rows of <see cref="MaxPoints"/> at most, each with its summary.</summary>
    public static IEnumerable<RunMetricChunk> Cut(long runId, string key, IReadOnlyList<MetricPoint> sorted)
    {
        for (var start = 0; start < sorted.Count; start += MaxPoints)
        {
            var count = Math.Min(MaxPoints, sorted.Count - start);
            yield return Build(runId, key, sorted, start, count);
        }
    }

    private static RunMetricChunk Build(long runId, string key, IReadOnlyList<MetricPoint> points, int start, int count)
    {
        double? min = null, max = null;
        var buffer = new byte[1 + 5 + (count * 28)];
        var at = 0;
        buffer[at++] = Format;
        at += WriteVarint(buffer.AsSpan(at), (ulong)count);
        long step = 0, time = 0;
        for (var i = start; i < start + count; i++)
        {
            var p = points[i];
            at += WriteVarint(buffer.AsSpan(at), ZigZag(p.Step - step));
            at += WriteVarint(buffer.AsSpan(at), ZigZag(p.Time - time));
            BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(at), BitConverter.DoubleToInt64Bits(p.Value));
            at += 8;
            (step, time) = (p.Step, p.Time);
            if (!double.IsNaN(p.Value))
            {
                min = min is { } m && m <= p.Value ? m : p.Value;
                max = max is { } x && x >= p.Value ? x : p.Value;
            }
        }

        var last = points[start + count - 1].Value;
        return new RunMetricChunk
        {
            RunId = runId,
            Key = key,
            FirstStep = points[start].Step,
            LastStep = points[start + count - 1].Step,
            Count = count,
            Min = min,
            Max = max,
            Last = double.IsNaN(last) ? null : last,
            Data = buffer.AsSpan(0, at).ToArray(),
        };
    }

    /// <summary>Appends the points of <paramref name="data"/> to <paramref name="into"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> data, List<MetricPoint> into)
    {
        if (data.Length < 2 || data[0] != Format)
        {
            throw new InvalidDataException("A metric chunk has an unknown format.");
        }

        var at = 1;
        var count = (int)ReadVarint(data, ref at);
        long step = 0, time = 0;
        for (var i = 0; i < count; i++)
        {
            step += UnZigZag(ReadVarint(data, ref at));
            time += UnZigZag(ReadVarint(data, ref at));
            var value = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(data[at..]));
            at += 8;
            into.Add(new MetricPoint(step, time, value));
        }
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private static int WriteVarint(Span<byte> span, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        return i;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = span[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("A metric chunk has a malformed number.");
    }
}
