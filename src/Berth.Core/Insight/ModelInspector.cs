using System.Text;
using Berth.Contracts.Dtos;
using Berth.Core.Insight.Formats;
using Berth.Core.Insight.IO;

namespace Berth.Core.Insight;

/// <summary>
/// Reads what is inside one model file, by its content (magic bytes, headers) and, for formats without a magic number
/// (protobuf, YAML, JSON, text), by its name confirmed by its content — never by loading it. The same code serves the
/// server (on every committed version) and <c>berth scan</c>. A file that is truncated or corrupt gets an
/// <see cref="FileInsight.Error"/> with the reason; nothing a file holds makes this throw.
/// </summary>
public static class ModelInspector
{
    /// <summary>Bumped when a release reads more (or differently): versions read by an older one can be read again.</summary>
    public const int Version = 1;

    public static async Task<FileInsight> InspectAsync(string path, RangeReader reader, string? digest, CancellationToken cancellationToken)
    {
        var insight = new InsightBuilder(path, reader.Length);
        try
        {
            await DetectAsync(path, reader, insight, cancellationToken);
        }
        catch (InsightFormatException e)
        {
            insight.Error = e.Message;
        }
        catch (InvalidDataException e)
        {
            insight.Error = "the compressed data is corrupt: " + e.Message;
        }
        catch (OverflowException)
        {
            insight.Error = "a size in the file is too large to compute";
        }
        catch (DecoderFallbackException)
        {
            insight.Error = "text that is not valid UTF-8";
        }

        if (insight.Error is not null && insight.Format is null)
        {
            insight.Format = "unknown";
        }

        return insight.Build(digest);
    }

    private static async Task DetectAsync(string path, RangeReader reader, InsightBuilder insight, CancellationToken cancellationToken)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        var head = new byte[(int)Math.Min(64, reader.Length)];
        var read = await reader.ReadAtAsync(0, head, cancellationToken);
        head = head[..read];
        if (head.Length == 0)
        {
            return;
        }

        if (GgufReader.Sniff(head))
        {
            await GgufReader.ReadAsync(reader, insight, cancellationToken);
            return;
        }

        if (SafetensorsReader.Sniff(head, reader.Length))
        {
            await SafetensorsReader.ReadAsync(reader, insight, cancellationToken);
            return;
        }

        if (ZipDirectory.HasMagic(head))
        {
            await ZipFiles.ReadAsync(reader, insight, cancellationToken);
            return;
        }

        if (NumpyReader.Sniff(head))
        {
            insight.Format = "npy";
            insight.Framework = "numpy";
            await using var stream = reader.OpenStream(0, reader.Length);
            await NumpyReader.ReadAsync(stream, insight, entry: null, cancellationToken);
            return;
        }

        if (Hdf5Reader.Sniff(head))
        {
            await Hdf5Reader.ReadAsync(reader, insight, cancellationToken);
            return;
        }

        if (name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            // Named as a format with a magic number it does not have.
            insight.Format = name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? "gguf" : "safetensors";
            throw new InsightFormatException($"the file does not begin as a {insight.Format} file does");
        }

        if (PickleFiles.MayStartPickle(head[0]) && await PickleFiles.ReadAsync(reader, insight, path, compressed: false, cancellationToken))
        {
            return;
        }

        if ((PickleFiles.IsGzip(head) || PickleFiles.IsZlib(head)) && await PickleFiles.ReadAsync(reader, insight, path, compressed: true, cancellationToken))
        {
            return;
        }

        if (PickleFiles.OtherCompression(head) is { } compression && PickleFiles.NamedLikePickle(name))
        {
            insight.Format = "joblib";
            insight.AddUnreadable(null, $"the file is compressed with {compression}, which Berth cannot open, so its pickle cannot be scanned");
            return;
        }

        if (name == "saved_model.pb")
        {
            await SavedModelReader.ReadAsync(reader, insight, cancellationToken);
            return;
        }

        if (name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || (head[0] == 0x08 && await OnnxReader.LooksLikeOnnxAsync(reader, cancellationToken)))
        {
            await OnnxReader.ReadAsync(reader, insight, cancellationToken);
            return;
        }

        var isText = TextFormats.IsMlmodel(name) || TextFormats.IsMlem(name) || TextFormats.IsRequirements(name) || TextFormats.IsJson(name);
        if (!isText || reader.Length > TextFormats.MaxText)
        {
            if (isText && !TextFormats.IsJson(name))
            {
                insight.Format = TextFormats.IsMlmodel(name) ? "mlflow" : TextFormats.IsMlem(name) ? "mlem" : "requirements";
                throw new InsightFormatException($"the file is {reader.Length} bytes; Berth reads such files up to {TextFormats.MaxText}");
            }

            return;
        }

        var bytes = await reader.ReadExactlyAtAsync(0, (int)reader.Length, cancellationToken);
        if (TextFormats.IsJson(name))
        {
            TextFormats.ReadJson(bytes, insight);
            return;
        }

        var text = TextFormats.Decode(bytes);
        if (TextFormats.IsMlmodel(name))
        {
            TextFormats.ReadMlmodel(text, insight);
        }
        else if (TextFormats.IsMlem(name))
        {
            TextFormats.ReadMlem(text, insight);
        }
        else
        {
            TextFormats.ReadRequirements(text, insight);
        }
    }
}
