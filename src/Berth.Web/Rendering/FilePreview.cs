using System.Buffers;
using System.Text;
using System.Text.Json;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;

namespace Berth.Web.Rendering;

/// <summary>What a run page can show of a file inline.</summary>
public enum PreviewKind
{
    /// <summary>Nothing: downloaded only.</summary>
    None,

    /// <summary>A raster image (PNG, JPEG, GIF, WebP), drawn with an <c>img</c> from <see cref="RunFileImages"/>.</summary>
    Image,

    /// <summary>Text, shown as it is (escaped) in a <c>pre</c>.</summary>
    Text,

    /// <summary>JSON, pretty-printed when the whole file was read and parses.</summary>
    Json,
}

/// <summary>The text a preview shows: the (escaped by Razor) text, whether it stops before the file's end, and what went wrong.</summary>
public sealed record TextPreview(string? Text, bool Truncated, bool Binary, string? Note);

/// <summary>
/// Previews of run files on the run page. Images: only raster formats a browser draws without running anything (never
/// SVG, which may carry script), and only when the bytes start with that format's signature, so a file named
/// <c>plot.png</c> that holds HTML is never served as an image. Text and JSON: the first <see cref="MaxTextBytes"/>
/// bytes, read from the blob store; a file with a NUL byte or that is not UTF-8 is binary and not shown. The text goes
/// into the page as text (Razor escapes it), never as markup.
/// </summary>
public static class FilePreview
{
    /// <summary>How much of a text file a preview reads and shows.</summary>
    public const int MaxTextBytes = 64 * 1024;

    /// <summary>JSON files up to this size are read whole to be pretty-printed (the printed text is cut at <see cref="MaxTextBytes"/> characters).</summary>
    public const int MaxJsonBytes = 1024 * 1024;

    /// <summary>Images up to this size are drawn inline; larger ones are only downloaded.</summary>
    public const long MaxImageBytes = 20L * 1024 * 1024;

    private static readonly Dictionary<string, string> ImageTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".webp"] = "image/webp",
    };

    private static readonly HashSet<string> TextExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".txt", ".log", ".out", ".err", ".md", ".markdown", ".rst", ".csv", ".tsv", ".yaml", ".yml", ".toml", ".ini", ".cfg",
        ".conf", ".properties", ".env", ".py", ".ipynb", ".r", ".sh", ".bash", ".sql", ".xml", ".html", ".htm", ".js", ".ts", ".cs",
        ".java", ".scala", ".go", ".rs", ".c", ".h", ".cpp", ".hpp", ".jsonl", ".ndjson", ".tex", ".svg", ".dockerfile", ".gitignore",
    };

    /// <summary>How the page shows <paramref name="path"/>: by its extension, then by the media type its writer declared.</summary>
    public static PreviewKind KindOf(string path, string? mediaType)
    {
        var extension = Path.GetExtension(path);
        if (ImageTypes.ContainsKey(extension))
        {
            return PreviewKind.Image;
        }

        if (string.Equals(extension, ".json", StringComparison.OrdinalIgnoreCase) || mediaType is "application/json")
        {
            return PreviewKind.Json;
        }

        var name = Path.GetFileName(path);
        if (TextExtensions.Contains(extension) || name is "Dockerfile" or "Makefile" or "README" or "LICENSE" or "requirements.txt"
            || mediaType?.StartsWith("text/", StringComparison.OrdinalIgnoreCase) == true)
        {
            return PreviewKind.Text;
        }

        return PreviewKind.None;
    }

    /// <summary>The image media type of <paramref name="path"/> by its extension, or null for anything else.</summary>
    public static string? ImageType(string path) => ImageTypes.GetValueOrDefault(Path.GetExtension(path));

    /// <summary>Whether <paramref name="head"/> (the file's first bytes) starts with the signature of <paramref name="imageType"/>.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> head, string imageType) => imageType switch
    {
        "image/png" => head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
        "image/jpeg" => head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]),
        "image/gif" => head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8),
        "image/webp" => head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8),
        _ => false,
    };

    /// <summary>Reads the start of a stored file and makes its text preview (<paramref name="json"/>: pretty-print it when it parses).</summary>
    public static async Task<TextPreview> ReadTextAsync(IBlobStore store, string digest, long size, bool json, CancellationToken cancellationToken)
    {
        var wanted = (int)Math.Min(size, json && size <= MaxJsonBytes ? MaxJsonBytes : MaxTextBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(wanted, 1));
        try
        {
            var read = 0;
            await using (var stream = await store.OpenReadAsync(Digest.Parse(digest), 0, cancellationToken))
            {
                int n;
                while (read < wanted && (n = await stream.ReadAsync(buffer.AsMemory(read, wanted - read), cancellationToken)) > 0)
                {
                    read += n;
                }
            }

            return Describe(buffer.AsSpan(0, read), size, json);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The preview of <paramref name="bytes"/>, the first bytes of a file of <paramref name="size"/> bytes.</summary>
    public static TextPreview Describe(ReadOnlySpan<byte> bytes, long size, bool json)
    {
        var whole = bytes.Length >= size;
        if (json && whole)
        {
            try
            {
                using var document = JsonDocument.Parse(bytes.ToArray(), new JsonDocumentOptions { MaxDepth = 256 });
                using var output = new MemoryStream();
                using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                {
                    document.WriteTo(writer);
                }

                var printed = Encoding.UTF8.GetString(output.GetBuffer(), 0, (int)output.Length);
                return printed.Length <= MaxTextBytes
                    ? new TextPreview(printed, false, false, null)
                    : new TextPreview(printed[..MaxTextBytes], true, false, null);
            }
            catch (JsonException e)
            {
                var text = Text(bytes[..Math.Min(bytes.Length, MaxTextBytes)], out var binary);
                return new TextPreview(text, bytes.Length > MaxTextBytes, binary, $"Not valid JSON ({e.Message.Split(" LineNumber", 2)[0].TrimEnd('.')}), so it is shown as it is.");
            }
        }

        var shown = bytes[..Math.Min(bytes.Length, MaxTextBytes)];
        var content = Text(shown, out var isBinary);
        return new TextPreview(content, shown.Length < size, isBinary, null);
    }

    /// <summary>UTF-8 text without NUL bytes; null (binary) otherwise. A sequence cut at the end of the read is left out.</summary>
    private static string? Text(ReadOnlySpan<byte> bytes, out bool binary)
    {
        binary = true;
        if (bytes.Contains((byte)0))
        {
            return null;
        }

        // The read may end inside a multi-byte character: drop an incomplete sequence at the very end (at most 3 bytes).
        var end = bytes.Length;
        for (var back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }

            var needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            if (needed > back)
            {
                end = bytes.Length - back;
            }

            break;
        }

        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes[..end]);
            binary = false;
            return text.StartsWith('\uFEFF') ? text[1..] : text;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
