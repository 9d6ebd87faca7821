namespace Berth.Core.Insight.IO;

/// <summary>A <see cref="RangeReader"/> over bytes in memory (small files, archive entries, tests).</summary>
public sealed class MemoryRangeReader(ReadOnlyMemory<byte> bytes) : RangeReader
{
    public override long Length => bytes.Length;

    protected override ValueTask<int> ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ReadCore(offset, buffer.Span));

    protected internal override int ReadCore(long offset, Span<byte> buffer)
    {
        if (offset >= bytes.Length)
        {
            return 0;
        }

        var count = (int)Math.Min(buffer.Length, bytes.Length - offset);
        bytes.Span.Slice((int)offset, count).CopyTo(buffer);
        return count;
    }
}
