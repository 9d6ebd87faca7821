using System.Globalization;
using System.IO.Compression;
using Berth.Contracts.Dtos;
using Berth.Core.Insight.IO;
using Berth.Core.Insight.Pickle;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// Files that are pickles: plain pickles, joblib files (also gzip- or zlib-compressed), legacy (non-zip) PyTorch
/// checkpoints. The scan gives the verdict and, from the globals, the framework, the classes and PyTorch's storages.
/// </summary>
internal static class PickleFiles
{
    /// <summary>Names that promise a pickle: a stream under such a name that cannot be read is suspicious.</summary>
    private static readonly string[] PickleExtensions =
        [".pkl", ".pickle", ".p", ".joblib", ".jbl", ".pt", ".pth", ".bin", ".ckpt", ".sav", ".dat", ".model", ".pck", ".pcl"];

    public static bool NamedLikePickle(string path) =>
        PickleExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase)) ||
        path.EndsWith(".pkl.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".joblib.gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>The first byte of a pickle of protocol 0 or 1 (no PROTO opcode): the opcodes such pickles begin with.</summary>
    public static bool MayStartPickle(byte first) => first is (byte)'(' or (byte)']' or (byte)'}' or (byte)')' or (byte)'c' or (byte)'I'
        or (byte)'L' or (byte)'S' or (byte)'V' or (byte)'N' or (byte)'F' or (byte)'X' or (byte)'U' or (byte)'T' or (byte)'J' or (byte)'K'
        or (byte)'M' or (byte)'G' or (byte)'i' or 0x80;

    public static bool StartsWithProto(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5;

    /// <summary>gzip, or zlib with one of its usual headers (joblib's compress= options).</summary>
    public static bool IsGzip(ReadOnlySpan<byte> head) => head.Length >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8;

    public static bool IsZlib(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x78 && head[1] is 0x01 or 0x5e or 0x9c or 0xda;

    /// <summary>Compressions joblib offers that .NET cannot open: a file named like a pickle in one of them is suspicious.</summary>
    public static string? OtherCompression(ReadOnlySpan<byte> head) =>
        head.Length >= 6 && head[0] == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X' && head[4] == 'Z' ? "xz"
        : head.Length >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h' ? "bzip2"
        : head.Length >= 4 && head[0] == 0x04 && head[1] == 0x22 && head[2] == 0x4d && head[3] == 0x18 ? "lz4"
        : head.Length >= 3 && head[0] == 0x5d && head[1] == 0 && head[2] == 0 ? "lzma"
        : null;

    /// <summary>Scans a whole file as pickle; false (and nothing recorded) when it is not a pickle at all.</summary>
    public static async Task<bool> ReadAsync(RangeReader reader, InsightBuilder insight, string path, bool compressed, CancellationToken cancellationToken)
    {
        PickleScanResult result;
        await using (var raw = reader.OpenStream(0, reader.Length))
        {
            if (compressed)
            {
                var head = await reader.ReadExactlyAtAsync(0, 2, cancellationToken);
                Stream inflated = head[0] == 0x1f ? new GZipStream(raw, CompressionMode.Decompress) : new ZLibStream(raw, CompressionMode.Decompress);
                await using var limited = new LimitedStream(inflated, ZipDirectory.MaxInflated, path);
                result = await PickleScanner.ScanAsync(limited, cancellationToken);
            }
            else
            {
                result = await PickleScanner.ScanAsync(raw, cancellationToken);
            }
        }

        if (!result.IsPickle && !NamedLikePickle(path))
        {
            return false;
        }

        insight.Format = result.LegacyTorch ? "pytorch-legacy" : result.Joblib || path.EndsWith(".joblib", StringComparison.OrdinalIgnoreCase) ? "joblib" : "pickle";
        insight.AddScan(result, null);
        Describe(result, insight);
        if (result.LegacyTorch && result.Error is null)
        {
            // After the five pickles, each storage: its element count (8 bytes), then its bytes.
            long expected = 0;
            foreach (var (dtype, count) in result.Storages.Values)
            {
                expected = checked(expected + 8 + (count * TorchDtypes.ElementSize(dtype)));
            }

            if (reader.Length - result.BytesScanned < expected)
            {
                throw new InsightFormatException($"the storages need {expected} bytes after the pickles but the file holds {reader.Length - result.BytesScanned} (truncated?)");
            }
        }
        if (compressed)
        {
            insight.Property("compression", reader.Length > 0 ? "gzip/zlib" : null);
        }

        return true;
    }

    /// <summary>The framework, classes and PyTorch storages a scan saw.</summary>
    public static void Describe(PickleScanResult result, InsightBuilder insight)
    {
        var globals = result.Globals.Select(g => g.Global).ToList();
        insight.Framework ??= Framework(globals);
        var classes = globals.Where(IsModelClass).Take(20).ToList();
        if (classes.Count > 0)
        {
            insight.Property("classes", string.Join(", ", classes));
        }

        if (result.Storages.Count > 0)
        {
            foreach (var (_, (dtype, count)) in result.Storages)
            {
                insight.AddDtype(dtype, count);
            }

            insight.Property("storages", result.Storages.Count.ToString(CultureInfo.InvariantCulture));
        }

        if (result.Tensors > 0)
        {
            insight.Property("tensors", result.Tensors.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static string? Framework(List<string> globals)
    {
        static bool Any(List<string> list, string prefix) => list.Any(g => g.StartsWith(prefix, StringComparison.Ordinal));
        return Any(globals, "torch.") ? "pytorch"
            : Any(globals, "xgboost.") ? "xgboost"
            : Any(globals, "lightgbm.") ? "lightgbm"
            : Any(globals, "catboost.") ? "catboost"
            : Any(globals, "sklearn.") ? "sklearn"
            : Any(globals, "tensorflow.") || Any(globals, "keras.") ? "tensorflow"
            : Any(globals, "numpy.") ? "numpy"
            : null;
    }

    /// <summary>Classes that say what the model is (not containers, numpy or rebuild helpers).</summary>
    private static bool IsModelClass(string global)
    {
        var dot = global.LastIndexOf('.');
        if (dot <= 0 || dot == global.Length - 1 || !char.IsAsciiLetterUpper(global[dot + 1]))
        {
            return false;
        }

        return !(global.StartsWith("numpy.", StringComparison.Ordinal) || global.StartsWith("collections.", StringComparison.Ordinal) ||
                 global.StartsWith("builtins.", StringComparison.Ordinal) || global.StartsWith("joblib.", StringComparison.Ordinal) ||
                 global.StartsWith("torch.", StringComparison.Ordinal) && global.EndsWith("Storage", StringComparison.Ordinal) ||
                 global.StartsWith("copyreg.", StringComparison.Ordinal) || global.StartsWith("_codecs.", StringComparison.Ordinal));
    }
}
