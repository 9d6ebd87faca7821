using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Core.Insight;
using Berth.Core.Insight.IO;
using Berth.Core.Insight.Pickle;

namespace Berth.Bench;

/// <summary>
/// berth-bench insight --folder &lt;dir&gt; [--runs n]: model insight's costs on one machine (bench/insight.sh): reading a
/// 1 GiB safetensors and a 1 GiB GGUF file (sparse files, written here from their specifications) and the model files
/// bench/insight.sh made with PyTorch (checkpoints, pickles) in the folder; per file the median wall time over the runs
/// and the bytes read. Prints one line per file.
/// </summary>
internal static class InsightBench
{
    public const string Usage = "berth-bench insight --folder <dir> [--runs n]";

    public static async Task<int> RunAsync(Func<string, string?> option)
    {
        var folder = option("--folder") ?? throw new ArgumentException("--folder is required");
        var runs = int.Parse(option("--runs") ?? "5", CultureInfo.InvariantCulture);
        Directory.CreateDirectory(folder);
        var safetensors = Path.Combine(folder, "big.safetensors");
        var gguf = Path.Combine(folder, "big.gguf");
        WriteSafetensors(safetensors);
        WriteGguf(gguf);

        foreach (var path in new[] { safetensors, gguf }.Concat(Directory.EnumerateFiles(folder).Where(p => p.EndsWith(".pt", StringComparison.Ordinal) || p.EndsWith(".pkl", StringComparison.Ordinal)).Order(StringComparer.Ordinal)))
        {
            var times = new List<double>();
            FileInsight? last = null;
            long read = 0;
            for (var i = 0; i < runs + 1; i++)
            {
                await using var reader = FileRangeReader.Open(path);
                var watch = Stopwatch.StartNew();
                last = await ModelInspector.InspectAsync(Path.GetFileName(path), reader, null, CancellationToken.None);
                watch.Stop();
                read = reader.BytesRead;
                if (i > 0)
                {
                    // The first run warms the JIT and the page cache; it is not counted.
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
            }

            times.Sort();
            var size = new FileInfo(path).Length;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"inspect {Path.GetFileName(path)} size={size} format={last!.Format} params={last.Parameters} verdict={last.Scan?.Verdict ?? "-"} error={last.Error ?? "-"} median_ms={times[times.Count / 2]:0.###} min_ms={times[0]:0.###} max_ms={times[^1]:0.###} bytes_read={read}"));

            if (path.EndsWith(".pkl", StringComparison.Ordinal))
            {
                // The scanner alone over the whole stream: its throughput.
                var scan = new List<double>();
                for (var i = 0; i < runs; i++)
                {
                    await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                    var watch = Stopwatch.StartNew();
                    var result = await PickleScanner.ScanAsync(stream, CancellationToken.None);
                    watch.Stop();
                    scan.Add(watch.Elapsed.TotalSeconds);
                    if (result.Error is not null)
                    {
                        // A limit of the scanner (e.g. the memo's entries): reported, not a crash of the bench.
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"scan {Path.GetFileName(path)} size={size} stopped_after_s={watch.Elapsed.TotalSeconds:0.###} error={result.Error}"));
                        break;
                    }
                }

                if (scan.Count < runs)
                {
                    continue;
                }

                scan.Sort();
                var median = scan[scan.Count / 2];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"scan {Path.GetFileName(path)} size={size} median_s={median:0.###} mib_per_s={size / median / 1048576:0.#}"));
            }
        }

        return 0;
    }

    /// <summary>1 GiB of float16 tensors (256 × 1024 × 2048), a sparse file.</summary>
    private static void WriteSafetensors(string path)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        for (var i = 0; i < 256; i++)
        {
            const long Size = 1024L * 2048 * 2;
            header[$"model.layers.{i}.weight"] = new Dictionary<string, object> { ["dtype"] = "F16", ["shape"] = new[] { 1024, 2048 }, ["data_offsets"] = new[] { offset, offset + Size } };
            offset += Size;
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.Write(length);
        file.Write(json);
        file.SetLength(file.Position + offset);
    }

    /// <summary>A GGUF v3 file of 1 GiB of Q4_K tensors, with a 32,000-token vocabulary in its header (a sparse file).</summary>
    private static void WriteGguf(string path)
    {
        using var file = File.Create(path);
        using var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
        void Str(string s)
        {
            var b = Encoding.UTF8.GetBytes(s);
            w.Write((ulong)b.Length);
            w.Write(b);
        }

        const int Tensors = 128;
        const long Rows = 4096, Columns = 3640;
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)Tensors);
        w.Write(5ul);
        Str("general.architecture"); w.Write(8u); Str("llama");
        Str("general.file_type"); w.Write(4u); w.Write(15u);
        Str("llama.context_length"); w.Write(4u); w.Write(8192u);
        Str("tokenizer.ggml.model"); w.Write(8u); Str("llama");
        Str("tokenizer.ggml.tokens"); w.Write(9u); w.Write(8u); w.Write(32000ul);
        for (var i = 0; i < 32000; i++)
        {
            Str($"▁token{i}");
        }

        long offset = 0;
        var bytes = Rows * Columns / 256 * 144;
        for (var i = 0; i < Tensors; i++)
        {
            Str($"blk.{i}.weight");
            w.Write(2u);
            w.Write((ulong)Columns);
            w.Write((ulong)Rows);
            w.Write(12u);
            w.Write((ulong)offset);
            offset += (bytes + 31) / 32 * 32;
        }

        w.Flush();
        file.SetLength(((file.Position + 31) / 32 * 32) + offset);
    }
}
