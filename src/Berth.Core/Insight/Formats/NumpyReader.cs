using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Berth.Core.Insight.IO;
using Berth.Core.Insight.Pickle;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// numpy's <c>.npy</c>: magic, version, a header that is a Python dict literal (<c>descr</c>, <c>fortran_order</c>,
/// <c>shape</c>), then the data. Arrays of objects (<c>descr</c> with 'O') store a pickle as their data, which is scanned.
/// </summary>
internal static partial class NumpyReader
{
    public const int MaxHeader = 1024 * 1024;

    public static bool Sniff(ReadOnlySpan<byte> head) =>
        head.Length >= 8 && head[0] == 0x93 && head[1] == 'N' && head[2] == 'U' && head[3] == 'M' && head[4] == 'P' && head[5] == 'Y';

    /// <summary>
    /// Reads an array's header from the start of <paramref name="stream"/> (and scans the pickle after it when the array
    /// holds objects); <paramref name="entry"/> names the array inside an .npz.
    /// </summary>
    public static async Task ReadAsync(Stream stream, InsightBuilder insight, string? entry, CancellationToken cancellationToken)
    {
        var head = await ReadExactlyAsync(stream, 12, cancellationToken);
        if (!Sniff(head))
        {
            throw new InsightFormatException("the .npy magic is missing");
        }

        var major = head[6];
        int headerLength;
        byte[] header;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(8));
            var rest = await ReadExactlyAsync(stream, Math.Max(0, headerLength - 2), cancellationToken);
            header = head[10..].Concat(rest).Take(headerLength).ToArray();
        }
        else if (major is 2 or 3)
        {
            var length = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(8));
            if (length > MaxHeader)
            {
                throw new InsightFormatException($"the .npy header is {length} bytes; Berth reads headers up to {MaxHeader}");
            }

            headerLength = (int)length;
            header = await ReadExactlyAsync(stream, headerLength, cancellationToken);
        }
        else
        {
            throw new InsightFormatException($".npy format version {major} is not one Berth reads (1 to 3)");
        }

        await ReadHeaderAsync(Encoding.Latin1.GetString(header), stream, insight, entry, cancellationToken);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        var read = await stream.ReadAtLeastAsync(buffer, count, throwOnEndOfStream: false, cancellationToken);
        return read == count ? buffer : throw new InsightFormatException($"the .npy file ends after {read} of the {count} header bytes it declares");
    }

    private static async Task ReadHeaderAsync(string header, Stream data, InsightBuilder insight, string? entry, CancellationToken cancellationToken)
    {
        var descr = DescrPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !shape.Success)
        {
            throw new InsightFormatException("the .npy header has no descr or shape");
        }

        long count = 1;
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var dim in dims)
        {
            if (!long.TryParse(dim.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out var d))
            {
                throw new InsightFormatException($"the .npy shape ({shape.Groups[1].Value}) is not a tuple of sizes");
            }

            count = checked(count * d);
        }

        var dtype = descr.Groups[1].Success ? descr.Groups[1].Value : "structured";
        var name = entry is null ? "" : entry + ".";
        insight.Property(name + "dtype", dtype);
        insight.Property(name + "shape", "(" + string.Join(", ", dims) + ")");
        if (dtype.Contains('O', StringComparison.Ordinal) || descr.Value.Contains("'O", StringComparison.Ordinal))
        {
            // An array of Python objects: its data is a pickle, which np.load(allow_pickle=True) unpickles.
            var result = await PickleScanner.ScanAsync(data, cancellationToken);
            insight.AddScan(result, entry);
            if (!result.IsPickle)
            {
                insight.AddUnreadable(entry, "the object array's data is not a pickle: " + result.Error);
            }

            return;
        }

        insight.AddDtype(NumpyType(dtype), count);
        if (ItemSize(dtype) is { } size && Remaining(data) is { } left && left < checked(count * size))
        {
            throw new InsightFormatException($"the array needs {count * size} bytes of data but the file holds {left} (truncated?)");
        }
    }

    /// <summary>Bytes left in a stream of known length (a whole file, a stored entry); null when unknown (inflating).</summary>
    private static long? Remaining(Stream data)
    {
        try
        {
            return data.Length - data.Position;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    private static long? ItemSize(string descr)
    {
        var code = descr.TrimStart('<', '>', '|', '=');
        var digits = 0;
        while (digits < code.Length && char.IsAsciiDigit(code[^(digits + 1)]))
        {
            digits++;
        }

        if (digits == 0 || digits == code.Length || !long.TryParse(code.AsSpan(code.Length - digits), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return null;
        }

        return code[0] switch
        {
            'U' => n * 4,
            'f' or 'i' or 'u' or 'b' or 'c' or 'S' or 'V' or 'm' or 'M' => code.Length - digits == 1 ? n : null,
            _ => null,
        };
    }

    private static string NumpyType(string descr)
    {
        var code = descr.TrimStart('<', '>', '|', '=');
        return code switch
        {
            "f2" => "float16", "f4" => "float32", "f8" => "float64", "f16" => "float128", "i1" => "int8", "i2" => "int16",
            "i4" => "int32", "i8" => "int64", "u1" => "uint8", "u2" => "uint16", "u4" => "uint32", "u8" => "uint64",
            "b1" => "bool", "c8" => "complex64", "c16" => "complex128",
            _ => code,
        };
    }

    [GeneratedRegex(@"'descr'\s*:\s*(?:'([^']*)'|\[)")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
