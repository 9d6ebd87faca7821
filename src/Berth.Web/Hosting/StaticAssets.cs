using System.Collections.Frozen;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Berth.Web.Hosting;

/// <summary>
/// The UI's CSS, JavaScript and icons, embedded in this assembly (Assets/, plus every component's scoped CSS appended to
/// berth.css) and served from memory under <c>/static/&lt;name&gt;.&lt;hash&gt;.&lt;ext&gt;</c>: the hash is of the content, so
/// a URL never changes meaning and can be cached forever (<c>Cache-Control: immutable</c>); Brotli and gzip forms are
/// made once at start-up. Nothing comes from the internet.
/// </summary>
public sealed class StaticAssets
{
    public const string PathPrefix = "/static/";

    private readonly FrozenDictionary<string, string> _urls;
    private readonly FrozenDictionary<string, Asset> _byFile;

    public StaticAssets()
    {
        var assembly = typeof(StaticAssets).Assembly;
        var names = assembly.GetManifestResourceNames();
        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in names.Where(n => n.StartsWith("assets/", StringComparison.Ordinal)))
        {
            contents[name["assets/".Length..]] = Read(assembly, name);
        }

        // Scoped CSS after the global sheet, in a stable order.
        var scoped = names.Where(n => n.StartsWith("scoped/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (contents.TryGetValue("berth.css", out var css) && scoped.Count > 0)
        {
            var all = new StringBuilder(Encoding.UTF8.GetString(css));
            foreach (var name in scoped)
            {
                all.Append("\n/* ").Append(name["scoped/".Length..]).Append(" */\n").Append(Encoding.UTF8.GetString(Read(assembly, name)));
            }

            contents["berth.css"] = Encoding.UTF8.GetBytes(all.ToString());
        }

        var urls = new Dictionary<string, string>(StringComparer.Ordinal);
        var byFile = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var (name, bytes) in contents)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
            var extension = Path.GetExtension(name);
            var file = name[..^extension.Length] + "." + hash + extension;
            urls[name] = PathPrefix + file;
            byFile[file] = new Asset(bytes, Compress(bytes, s => new BrotliStream(s, CompressionLevel.SmallestSize)), Compress(bytes, s => new GZipStream(s, CompressionLevel.SmallestSize)), ContentType(extension), "\"" + hash + "\"");
        }

        _urls = urls.ToFrozenDictionary(StringComparer.Ordinal);
        _byFile = byFile.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The versioned URL of an asset, e.g. <c>Url("berth.css")</c> → <c>/static/berth.1f2e….css</c>.</summary>
    public string Url(string name) => _urls.TryGetValue(name, out var url) ? url : throw new ArgumentException($"There is no asset '{name}'.", nameof(name));

    /// <summary>The asset names (for tests and diagnostics).</summary>
    public IEnumerable<string> Names => _urls.Keys;

    /// <summary>Answers <c>GET|HEAD /static/{file}</c>.</summary>
    public async Task ServeAsync(HttpContext context, string file)
    {
        if (!_byFile.TryGetValue(file, out var asset))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "public, max-age=31536000, immutable";
        headers.ETag = asset.ETag;
        headers.Vary = HeaderNames.AcceptEncoding;
        headers.XContentTypeOptions = "nosniff";
        context.Response.ContentType = asset.ContentType;
        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var accept = context.Request.Headers.AcceptEncoding.ToString();
        var body = asset.Plain;
        if (Accepts(accept, "br") && asset.Brotli.Length < body.Length)
        {
            headers.ContentEncoding = "br";
            body = asset.Brotli;
        }
        else if (Accepts(accept, "gzip") && asset.Gzip.Length < body.Length)
        {
            headers.ContentEncoding = "gzip";
            body = asset.Gzip;
        }

        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    private static bool Accepts(string acceptEncoding, string coding)
    {
        foreach (var part in acceptEncoding.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var semicolon = part.IndexOf(';', StringComparison.Ordinal);
            var name = semicolon < 0 ? part : part[..semicolon].Trim();
            if (name.Equals(coding, StringComparison.OrdinalIgnoreCase))
            {
                return !part.Replace(" ", "", StringComparison.Ordinal).EndsWith("q=0", StringComparison.Ordinal);
            }
        }

        return false;
    }

    private static byte[] Read(System.Reflection.Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static byte[] Compress(byte[] bytes, Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream();
        using (var stream = compressor(output))
        {
            stream.Write(bytes);
        }

        return output.ToArray();
    }

    private static string ContentType(string extension) => extension switch
    {
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        ".txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Plain, byte[] Brotli, byte[] Gzip, string ContentType, string ETag);
}
