namespace Berth.Core.Insight.IO;

/// <summary>
/// Walks protobuf wire format (varints, fixed 32/64-bit, length-delimited) through a <see cref="ByteCursor"/>: a message
/// is read field by field up to its end, and fields that are not wanted — an ONNX initializer's raw bytes, a graph — are
/// jumped over without being read. Nesting is limited to <see cref="MaxDepth"/>.
/// </summary>
public sealed class ProtoReader(ByteCursor cursor)
{
    public const int MaxDepth = 32;
    public const int MaxString = 64 * 1024;

    public ByteCursor Cursor { get; } = cursor;

    public int Field { get; private set; }

    public int WireType { get; private set; }

    /// <summary>Reads the next field's tag; false at <paramref name="end"/>.</summary>
    public async ValueTask<bool> NextAsync(long end, CancellationToken cancellationToken)
    {
        if (Cursor.Position >= end)
        {
            if (Cursor.Position > end)
            {
                throw new InsightFormatException($"a protobuf field runs past the end of its message at byte {end}");
            }

            return false;
        }

        var tag = await Cursor.ReadVarintAsync(cancellationToken);
        Field = (int)(tag >> 3);
        WireType = (int)(tag & 7);
        if (Field == 0 || tag >> 3 > int.MaxValue || WireType is 3 or 4 or 6 or 7)
        {
            throw new InsightFormatException($"a protobuf tag that is not valid ({tag}) at byte {Cursor.Position}");
        }

        return true;
    }

    public async ValueTask<long> VarintAsync(CancellationToken cancellationToken)
    {
        Expect(0);
        return (long)await Cursor.ReadVarintAsync(cancellationToken);
    }

    /// <summary>A length-delimited field: the end of its bytes (the cursor is at their start).</summary>
    public async ValueTask<long> LengthAsync(CancellationToken cancellationToken)
    {
        Expect(2);
        var length = await Cursor.ReadVarintAsync(cancellationToken);
        if (length > (ulong)Cursor.Remaining)
        {
            throw new InsightFormatException($"a protobuf field of {length} bytes at byte {Cursor.Position} runs past the end of the data at byte {Cursor.End}");
        }

        return Cursor.Position + (long)length;
    }

    /// <summary>A string field (longer ones are cut to <see cref="MaxString"/> bytes).</summary>
    public async ValueTask<string> StringAsync(CancellationToken cancellationToken)
    {
        var end = await LengthAsync(cancellationToken);
        var length = end - Cursor.Position;
        var text = await Cursor.ReadUtf8Async((int)Math.Min(length, MaxString), cancellationToken);
        Cursor.Position = end;
        return text;
    }

    /// <summary>A repeated integer field, packed or not, added to <paramref name="values"/> (at most <paramref name="max"/>).</summary>
    public async ValueTask ReadIntegersAsync(List<long> values, int max, CancellationToken cancellationToken)
    {
        if (WireType == 0)
        {
            var value = (long)await Cursor.ReadVarintAsync(cancellationToken);
            if (values.Count < max) values.Add(value);
            return;
        }

        var end = await LengthAsync(cancellationToken);
        while (Cursor.Position < end)
        {
            var value = (long)await Cursor.ReadVarintAsync(cancellationToken);
            if (values.Count < max) values.Add(value);
        }

        if (Cursor.Position != end)
        {
            throw new InsightFormatException("a packed protobuf field runs past its end");
        }
    }

    /// <summary>Skips the current field's value.</summary>
    public async ValueTask SkipAsync(CancellationToken cancellationToken)
    {
        switch (WireType)
        {
            case 0:
                await Cursor.ReadVarintAsync(cancellationToken);
                break;
            case 1:
                Cursor.Skip(8);
                break;
            case 2:
                Cursor.Position = await LengthAsync(cancellationToken);
                break;
            case 5:
                Cursor.Skip(4);
                break;
            default:
                throw new InsightFormatException($"a protobuf wire type {WireType} Berth does not read");
        }
    }

    private void Expect(int wireType)
    {
        if (WireType != wireType)
        {
            throw new InsightFormatException($"protobuf field {Field} has wire type {WireType} where {wireType} was expected");
        }
    }
}
