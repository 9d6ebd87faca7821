namespace Berth.Core.Runs;

/// <summary>One point of a metric series: the step, the time (milliseconds since the Unix epoch) and the value (any double, NaN and infinities included).</summary>
public readonly record struct MetricPoint(long Step, long Time, double Value)
{
    /// <summary>Series order: by step, then time, then the value's bits (so equal points are adjacent and the order is total).</summary>
    public static int Compare(MetricPoint a, MetricPoint b)
    {
        var c = a.Step.CompareTo(b.Step);
        if (c != 0)
        {
            return c;
        }

        c = a.Time.CompareTo(b.Time);
        return c != 0 ? c : BitConverter.DoubleToInt64Bits(a.Value).CompareTo(BitConverter.DoubleToInt64Bits(b.Value));
    }
}
