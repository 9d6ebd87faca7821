using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Contracts.Dtos;
using Berth.Core.Insight.IO;
using Berth.Core.Insight.Pickle;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// Zip archives: PyTorch checkpoints (<c>torch.save</c>: <c>archive/data.pkl</c> and the storages in
/// <c>archive/data/N</c>), TorchScript (<c>code/</c>, <c>constants.pkl</c>), Keras 3 (<c>.keras</c>: <c>config.json</c>,
/// <c>metadata.json</c>), numpy <c>.npz</c>, and any other zip whose entries hold pickles. Every pickle inside is scanned,
/// whatever its name; storages and other raw entries are not read.
/// </summary>
internal static partial class ZipFiles
{
    private const int MaxSniffed = 10_000;
    private const int MaxJson = 16 * 1024 * 1024;

    /// <summary>Reads the archive; false when it is a zip holding nothing Berth reads.</summary>
    public static async Task<bool> ReadAsync(RangeReader reader, InsightBuilder insight, CancellationToken cancellationToken)
    {
        var zip = await ZipDirectory.ReadAsync(reader, cancellationToken);
        var entries = zip.Entries.Where(e => !e.Name.EndsWith('/')).ToList();
        var dataPkl = entries.FirstOrDefault(e => e.Name == "data.pkl" || e.Name.EndsWith("/data.pkl", StringComparison.Ordinal));
        var constants = entries.FirstOrDefault(e => e.Name.EndsWith("/constants.pkl", StringComparison.Ordinal) || e.Name == "constants.pkl");
        if (dataPkl is not null || constants is not null)
        {
            await ReadTorchAsync(zip, entries, dataPkl ?? constants!, constants, insight, cancellationToken);
            return true;
        }

        var config = entries.FirstOrDefault(e => e.Name == "config.json");
        if (config is not null && entries.Any(e => e.Name is "metadata.json" or "model.weights.h5" or "model.weights.npz"))
        {
            await ReadKerasAsync(zip, entries, config, insight, cancellationToken);
            return true;
        }

        if (entries.Count > 0 && entries.All(e => e.Name.EndsWith(".npy", StringComparison.Ordinal)))
        {
            insight.Format = "npz";
            insight.Framework = "numpy";
            insight.Parameters = 0;
            foreach (var entry in entries.Take(InsightBuilder.MaxProperties / 2))
            {
                await using var stream = await zip.OpenAsync(entry, cancellationToken);
                await NumpyReader.ReadAsync(stream, insight, entry.Name[..^4], cancellationToken);
            }

            insight.Property("arrays", entries.Count.ToString(CultureInfo.InvariantCulture));
            return true;
        }

        await ScanEntriesAsync(zip, entries, skip: null, insight, cancellationToken);
        if (!insight.Scanned)
        {
            return false;
        }

        insight.Format = "zip";
        return true;
    }

    private static async Task ReadTorchAsync(ZipDirectory zip, List<ZipEntry> entries, ZipEntry main, ZipEntry? constants, InsightBuilder insight, CancellationToken cancellationToken)
    {
        var prefix = main.Name.Contains('/', StringComparison.Ordinal) ? main.Name[..(main.Name.LastIndexOf('/') + 1)] : "";
        var torchScript = entries.Any(e => e.Name.StartsWith(prefix + "code/", StringComparison.Ordinal));
        insight.Format = torchScript ? "torchscript" : "pytorch";
        insight.Framework = "pytorch";
        insight.Property("archive", prefix.TrimEnd('/'));
        var version = entries.FirstOrDefault(e => e.Name == prefix + "version" || e.Name == prefix + ".data/version");
        if (version is not null && version.Size <= 64)
        {
            insight.Property("serialization_version", Encoding.ASCII.GetString(await zip.ReadAllAsync(version, 64, cancellationToken)).Trim());
        }

        foreach (var entry in new[] { main, constants }.OfType<ZipEntry>().Distinct())
        {
            await using var stream = await zip.OpenAsync(entry, cancellationToken);
            var result = await PickleScanner.ScanAsync(stream, cancellationToken);
            insight.AddScan(result, entry.Name);
            PickleFiles.Describe(result, insight);
        }

        // Any other entry that holds a pickle is scanned too (torch.load reads only data.pkl, but other loaders may not).
        var storage = StoragePattern();
        await ScanEntriesAsync(zip, entries, e => e == main || e == constants || storage.IsMatch(e.Name), insight, cancellationToken);
    }

    /// <summary>Scans the entries that are pickles: those named like one, and those whose bytes begin like one.</summary>
    private static async Task ScanEntriesAsync(ZipDirectory zip, List<ZipEntry> entries, Func<ZipEntry, bool>? skip, InsightBuilder insight, CancellationToken cancellationToken)
    {
        var sniffed = 0;
        foreach (var entry in entries)
        {
            if (skip?.Invoke(entry) == true || entry.Size == 0)
            {
                continue;
            }

            var named = PickleFiles.NamedLikePickle(entry.Name);
            if (!named)
            {
                if (++sniffed > MaxSniffed)
                {
                    continue;
                }

                await using var probe = await zip.OpenAsync(entry, cancellationToken);
                var head = new byte[2];
                var read = await probe.ReadAtLeastAsync(head, 2, throwOnEndOfStream: false, cancellationToken);
                if (read < 2 || !PickleFiles.StartsWithProto(head))
                {
                    continue;
                }
            }

            await using var stream = await zip.OpenAsync(entry, cancellationToken);
            var result = await PickleScanner.ScanAsync(stream, cancellationToken);
            if (result.IsPickle || named)
            {
                insight.AddScan(result, entry.Name);
                PickleFiles.Describe(result, insight);
            }
        }
    }

    private static async Task ReadKerasAsync(ZipDirectory zip, List<ZipEntry> entries, ZipEntry config, InsightBuilder insight, CancellationToken cancellationToken)
    {
        insight.Format = "keras";
        insight.Framework = "keras";
        var metadata = entries.FirstOrDefault(e => e.Name == "metadata.json");
        if (metadata is not null)
        {
            using var json = SafetensorsReader.Parse(await zip.ReadAllAsync(metadata, MaxJson, cancellationToken));
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var key in new[] { "keras_version", "date_saved" })
                {
                    if (json.RootElement.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        insight.Property(key, value.GetString());
                    }
                }
            }
        }

        using var document = SafetensorsReader.Parse(await zip.ReadAllAsync(config, MaxJson, cancellationToken));
        KerasConfig.Describe(document.RootElement, insight, entry: config.Name);
        await ScanEntriesAsync(zip, entries, e => e == config || e == metadata, insight, cancellationToken);
    }

    [GeneratedRegex(@"(^|/)data/\d+$")]
    private static partial Regex StoragePattern();
}
