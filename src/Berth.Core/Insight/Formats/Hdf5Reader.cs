using System.Text.Json;
using Berth.Core.Insight.IO;

namespace Berth.Core.Insight.Formats;

/// <summary>
/// HDF5: recognised by its signature. A legacy Keras model (<c>model.save("m.h5")</c>) keeps its configuration as a JSON
/// attribute, <c>model_config</c>, near the start of the file: Berth looks for it in the first megabyte and reads it as a
/// Keras configuration. Other HDF5 files are only named.
/// </summary>
internal static class Hdf5Reader
{
    private const int Window = 1024 * 1024;

    public static bool Sniff(ReadOnlySpan<byte> head) =>
        head.Length >= 8 && head[0] == 0x89 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F' && head[4] == '\r' && head[5] == '\n' && head[6] == 0x1a && head[7] == '\n';

    public static async Task ReadAsync(RangeReader reader, InsightBuilder insight, CancellationToken cancellationToken)
    {
        insight.Format = "hdf5";
        var window = new byte[(int)Math.Min(Window, reader.Length)];
        var read = await reader.ReadAtAsync(0, window, cancellationToken);
        var bytes = window.AsSpan(0, read);
        if (bytes.IndexOf("keras_version"u8) < 0 && bytes.IndexOf("model_config"u8) < 0)
        {
            return;
        }

        insight.Framework = "keras";
        var start = bytes.IndexOf("{\"class_name\""u8);
        if (start < 0)
        {
            return;
        }

        var json = new Utf8JsonReader(bytes[start..], new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (JsonDocument.TryParseValue(ref json, out var document))
            {
                using (document)
                {
                    KerasConfig.Describe(document.RootElement, insight, entry: "model_config");
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The configuration spans HDF5 heap blocks: the framework is all Berth reports.
        }
    }
}
