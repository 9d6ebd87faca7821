using System.Buffers.Binary;
using System.Text;

namespace Berth.Core.Insight.IO;

/// <summary>
/// Reads a window of a <see cref="RangeReader"/> in order through a small buffer, and skips without reading: parsers of
/// headers (GGUF, protobuf) walk a structure whose large payloads (weights) they jump over.
/// </summary>
public sealed class ByteCursor(RangeReader reader, long start, long end)
{
    private const int ChunkSize = 64 * 1024;

    private byte[] _buffer = new byte[ChunkSize];
    private long _bufferStart = start;
    private int _bufferLength;

    public ByteCursor(RangeReader reader)
        : this(reader, 0, reader.Length)
    {
    }

    public long Position { get; set; } = start;

    public long End { get; } = Math.Min(end, reader.Length);

    public long Remaining => End - Position;

    /// <summary>Ensures <paramref name="count"/> bytes at <see cref="Position"/> are buffered, or throws: the data ends too early.</summary>
    public async ValueTask EnsureAsync(int count, CancellationToken cancellationToken)
    {
        if (Position >= _bufferStart && Position + count <= _bufferStart + _bufferLength)
        {
            return;
        }

        if (count > Remaining)
        {
            throw new InsightFormatException($"the data ends at byte {End}, before the {count} bytes at {Position} it should hold");
        }

        if (count > _buffer.Length)
        {
            _buffer = new byte[count];
        }

        var want = (int)Math.Min(_buffer.Length, End - Position);
        var read = await reader.ReadAtAsync(Position, _buffer.AsMemory(0, want), cancellationToken);
        _bufferStart = Position;
        _bufferLength = read;
        if (read < count)
        {
            throw new InsightFormatException($"the file ends at byte {Position + read}, before the {count} bytes at {Position} it should hold");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        var span = _buffer.AsSpan((int)(Position - _bufferStart), count);
        Position += count;
        return span;
    }

    public async ValueTask<byte> ReadByteAsync(CancellationToken cancellationToken)
    {
        await EnsureAsync(1, cancellationToken);
        return Take(1)[0];
    }

    public async ValueTask<uint> ReadUInt32Async(CancellationToken cancellationToken)
    {
        await EnsureAsync(4, cancellationToken);
        return BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    }

    public async ValueTask<ulong> ReadUInt64Async(CancellationToken cancellationToken)
    {
        await EnsureAsync(8, cancellationToken);
        return BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    }

    public async ValueTask<byte[]> ReadBytesAsync(int count, CancellationToken cancellationToken)
    {
        await EnsureAsync(count, cancellationToken);
        return Take(count).ToArray();
    }

    public async ValueTask<string> ReadUtf8Async(int count, CancellationToken cancellationToken)
    {
        await EnsureAsync(count, cancellationToken);
        return Encoding.UTF8.GetString(Take(count));
    }

    /// <summary>A base-128 varint (protobuf); at most 10 bytes.</summary>
    public async ValueTask<ulong> ReadVarintAsync(CancellationToken cancellationToken)
    {
        await EnsureAsync((int)Math.Min(10, Remaining), cancellationToken);
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (Position >= End)
            {
                throw new InsightFormatException($"a varint runs past the end of its data at byte {End}");
            }

            var b = Take(1)[0];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InsightFormatException($"a varint longer than 10 bytes at byte {Position}");
    }

    /// <summary>Moves forward without reading.</summary>
    public void Skip(long count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new InsightFormatException($"a length of {count} bytes at byte {Position} runs past the end of its data at byte {End}");
        }

        Position += count;
    }
}
