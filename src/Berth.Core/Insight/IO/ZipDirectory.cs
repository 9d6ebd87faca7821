using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Berth.Core.Insight.IO;

/// <summary>One entry of a zip's central directory.</summary>
public sealed record ZipEntry(string Name, int Method, long CompressedSize, long Size, long HeaderOffset);

/// <summary>
/// A zip archive's central directory, read with two or three ranged reads from the end of the file (zip64 included), and
/// its entries opened as streams (stored, or deflated with a cap on what they may inflate to). Nothing else is read.
/// </summary>
public sealed class ZipDirectory
{
    public const int MaxEntries = 200_000;
    public const long MaxDirectorySize = 64L * 1024 * 1024;

    /// <summary>The most a deflated entry may inflate to, whatever it declares (zip bombs).</summary>
    public const long MaxInflated = 16L * 1024 * 1024 * 1024;

    private readonly RangeReader _reader;

    private ZipDirectory(RangeReader reader, List<ZipEntry> entries)
    {
        _reader = reader;
        Entries = entries;
    }

    public IReadOnlyList<ZipEntry> Entries { get; }

    public static bool HasMagic(ReadOnlySpan<byte> head) =>
        head.Length >= 4 && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));

    public static async Task<ZipDirectory> ReadAsync(RangeReader reader, CancellationToken cancellationToken)
    {
        var length = reader.Length;
        var tailLength = (int)Math.Min(length, 22 + 65535 + 20);
        var tail = await reader.ReadExactlyAtAsync(length - tailLength, tailLength, cancellationToken);
        var eocd = -1;
        for (var i = tail.Length - 22; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == 0x06054b50)
            {
                eocd = i;
                break;
            }
        }

        if (eocd < 0)
        {
            throw new InsightFormatException("the zip archive has no end-of-central-directory record (truncated?)");
        }

        long count = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(eocd + 10));
        long size = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd + 12));
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd + 16));
        if ((count == 0xFFFF || size == 0xFFFFFFFF || offset == 0xFFFFFFFF) && eocd >= 20 &&
            BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd - 20)) == 0x07064b50)
        {
            var zip64At = (long)BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan(eocd - 20 + 8));
            if (zip64At < 0 || zip64At > length - 56)
            {
                throw new InsightFormatException("the zip64 end-of-central-directory record lies outside the file");
            }

            var zip64 = await reader.ReadExactlyAtAsync(zip64At, 56, cancellationToken);
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip64) != 0x06064b50)
            {
                throw new InsightFormatException("the zip64 end-of-central-directory record is corrupt");
            }

            count = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(32)), long.MaxValue);
            size = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(40)), long.MaxValue);
            offset = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(zip64.AsSpan(48)), long.MaxValue);
        }

        if (count > MaxEntries)
        {
            throw new InsightFormatException($"the zip archive declares {count} entries; Berth reads archives of at most {MaxEntries}");
        }

        if (size > MaxDirectorySize || offset < 0 || offset > length || size > length - offset)
        {
            throw new InsightFormatException($"the zip archive's central directory ({size} bytes at {offset}) does not fit in the file ({length} bytes)");
        }

        var directory = await reader.ReadExactlyAtAsync(offset, (int)size, cancellationToken);
        var entries = new List<ZipEntry>((int)count);
        var p = 0;
        for (var i = 0; i < count; i++)
        {
            if (p + 46 > directory.Length || BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(p)) != 0x02014b50)
            {
                throw new InsightFormatException($"the zip archive's central directory is corrupt at entry {i}");
            }

            var d = directory.AsSpan(p);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(d[10..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(d[20..]);
            long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(d[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(d[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(d[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(d[32..]);
            long header = BinaryPrimitives.ReadUInt32LittleEndian(d[42..]);
            if (p + 46 + nameLength + extraLength + commentLength > directory.Length)
            {
                throw new InsightFormatException($"the zip archive's central directory is corrupt at entry {i}");
            }

            var name = Encoding.UTF8.GetString(d.Slice(46, nameLength));
            var extra = d.Slice(46 + nameLength, extraLength);
            while (extra.Length >= 4)
            {
                int id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
                int fieldLength = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
                if (fieldLength > extra.Length - 4)
                {
                    break;
                }

                if (id == 0x0001)
                {
                    var field = extra.Slice(4, fieldLength);
                    if (uncompressed == 0xFFFFFFFF && field.Length >= 8)
                    {
                        uncompressed = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(field), long.MaxValue);
                        field = field[8..];
                    }

                    if (compressed == 0xFFFFFFFF && field.Length >= 8)
                    {
                        compressed = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(field), long.MaxValue);
                        field = field[8..];
                    }

                    if (header == 0xFFFFFFFF && field.Length >= 8)
                    {
                        header = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(field), long.MaxValue);
                    }
                }

                extra = extra[(4 + fieldLength)..];
            }

            entries.Add(new ZipEntry(name, method, compressed, uncompressed, header));
            p += 46 + nameLength + extraLength + commentLength;
        }

        return new ZipDirectory(reader, entries);
    }

    /// <summary>Where an entry's data starts (after its local header) and how long it is, checked against the file.</summary>
    public async Task<(long Offset, long Length)> LocateAsync(ZipEntry entry, CancellationToken cancellationToken)
    {
        var local = await _reader.ReadExactlyAtAsync(entry.HeaderOffset, 30, cancellationToken);
        if (BinaryPrimitives.ReadUInt32LittleEndian(local) != 0x04034b50)
        {
            throw new InsightFormatException($"the zip entry '{entry.Name}' has no local header where the directory says");
        }

        var start = entry.HeaderOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(28));
        if (start > _reader.Length || entry.CompressedSize > _reader.Length - start)
        {
            throw new InsightFormatException($"the zip entry '{entry.Name}' runs past the end of the file (truncated?)");
        }

        return (start, entry.CompressedSize);
    }

    /// <summary>Opens an entry's bytes, inflated when deflated (at most its declared size, and never past <see cref="MaxInflated"/>).</summary>
    public async Task<Stream> OpenAsync(ZipEntry entry, CancellationToken cancellationToken)
    {
        var (start, length) = await LocateAsync(entry, cancellationToken);
        var raw = _reader.OpenStream(start, length);
        return entry.Method switch
        {
            0 => raw,
            8 => new LimitedStream(new DeflateStream(raw, CompressionMode.Decompress), Math.Min(entry.Size, MaxInflated), entry.Name),
            _ => throw new InsightFormatException($"the zip entry '{entry.Name}' is compressed with method {entry.Method}, which Berth does not read"),
        };
    }

    /// <summary>Reads a whole (small) entry, at most <paramref name="max"/> bytes.</summary>
    public async Task<byte[]> ReadAllAsync(ZipEntry entry, int max, CancellationToken cancellationToken)
    {
        if (entry.Size > max)
        {
            throw new InsightFormatException($"the zip entry '{entry.Name}' is {entry.Size} bytes; Berth reads such entries up to {max}");
        }

        await using var stream = await OpenAsync(entry, cancellationToken);
        using var copy = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (copy.Length + read > max)
            {
                throw new InsightFormatException($"the zip entry '{entry.Name}' inflates past {max} bytes");
            }

            copy.Write(buffer, 0, read);
        }

        return copy.ToArray();
    }
}
