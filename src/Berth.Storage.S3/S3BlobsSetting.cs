using System.Globalization;
using System.Text.RegularExpressions;

namespace Berth.Storage.S3;

/// <summary>
/// Parses the <c>s3://bucket[/prefix][?parameters]</c> form of the <c>--blobs</c> setting. Every mistake is a
/// <see cref="FormatException"/> whose message names the part that is wrong; secrets never appear in it.
/// </summary>
public static partial class S3BlobsSetting
{
    public const string Scheme = "s3";

    /// <summary>The query parameters understood, for messages and documentation.</summary>
    public static IReadOnlyList<string> Parameters { get; } =
        ["endpoint", "region", "path-style", "checksums", "download", "upload", "access-key", "secret-key", "part-size-mb"];

    public static bool IsS3(string value) => value.StartsWith(Scheme + "://", StringComparison.OrdinalIgnoreCase);

    public static S3BlobStoreOptions Parse(string value)
    {
        if (!IsS3(value))
        {
            throw new FormatException("expected s3://<bucket>[/<prefix>][?endpoint=…&region=…&path-style=true]");
        }

        // Taken from the text as written: Uri lower-cases host names and removes '..' segments.
        var rest = value[(Scheme.Length + 3)..];
        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        var location = queryStart >= 0 ? rest[..queryStart] : rest;
        var slash = location.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash >= 0 ? location[..slash] : location;
        if (bucket.Contains('@', StringComparison.Ordinal))
        {
            throw new FormatException("credentials do not belong before the bucket name; use access-key= and secret-key=, or the AWS environment variables");
        }

        if (!BucketName().IsMatch(bucket))
        {
            throw new FormatException($"'{bucket}' is not a valid bucket name (3-63 characters: lowercase letters, digits, '.' and '-')");
        }

        var prefix = Uri.UnescapeDataString(slash >= 0 ? location[(slash + 1)..] : "").Trim('/');
        if (prefix.Split('/').Any(s => s is "." or ".."))
        {
            throw new FormatException($"the prefix '{prefix}' may not contain '.' or '..' segments");
        }

        var query = ParseQuery(queryStart >= 0 ? rest[(queryStart + 1)..] : "");
        var endpoint = query.TryGetValue("endpoint", out var e) ? ParseEndpoint(e) : null;
        var region = query.GetValueOrDefault("region") ?? "us-east-1";
        if (!RegionName().IsMatch(region))
        {
            throw new FormatException($"region '{region}' is not a region name (e.g. us-east-1)");
        }

        var accessKey = query.GetValueOrDefault("access-key");
        var secretKey = query.GetValueOrDefault("secret-key");
        if ((accessKey is null) != (secretKey is null))
        {
            throw new FormatException("access-key and secret-key go together: give both, or neither (then the AWS environment variables or profile are used)");
        }

        var partSize = S3BlobStoreOptions.DefaultPartSize;
        if (query.TryGetValue("part-size-mb", out var p))
        {
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var mb) ||
                mb < S3BlobStoreOptions.MinPartSize >> 20 || mb > S3BlobStoreOptions.MaxPartSize >> 20)
            {
                throw new FormatException($"part-size-mb must be a whole number from {S3BlobStoreOptions.MinPartSize >> 20} to {S3BlobStoreOptions.MaxPartSize >> 20}, not '{p}'");
            }

            partSize = mb << 20;
        }

        return new S3BlobStoreOptions
        {
            Bucket = bucket,
            Prefix = prefix.Length > 0 ? prefix + "/" : "",
            Endpoint = endpoint,
            Region = region,
            ForcePathStyle = ParseBool(query, "path-style", false),
            ChecksumsWhenRequired = query.GetValueOrDefault("checksums") switch
            {
                null or "when-supported" => false,
                "when-required" => true,
                var other => throw new FormatException($"checksums must be when-supported or when-required, not '{other}'"),
            },
            Download = ParseMode(query, "download"),
            Upload = ParseMode(query, "upload"),
            AccessKey = accessKey,
            SecretKey = secretKey,
            PartSize = partSize,
        };
    }

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            if (!Parameters.Contains(name))
            {
                throw new FormatException($"unknown parameter '{name}' (known: {string.Join(", ", Parameters)})");
            }

            if (!result.TryAdd(name, value))
            {
                throw new FormatException($"parameter '{name}' is given twice");
            }
        }

        return result;
    }

    private static Uri ParseEndpoint(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https") ||
            endpoint.UserInfo.Length > 0 || endpoint.Query.Length > 0)
        {
            throw new FormatException($"endpoint must be an http:// or https:// address such as http://s3.internal:9000, not '{value}'");
        }

        return endpoint;
    }

    private static S3TransferMode ParseMode(Dictionary<string, string> query, string name) =>
        query.GetValueOrDefault(name) switch
        {
            null or "proxy" => S3TransferMode.Proxy,
            "redirect" => S3TransferMode.Redirect,
            var other => throw new FormatException($"{name} must be proxy or redirect, not '{other}'"),
        };

    private static bool ParseBool(Dictionary<string, string> query, string name, bool fallback) =>
        query.GetValueOrDefault(name) switch
        {
            null => fallback,
            "true" or "" => true,
            "false" => false,
            var other => throw new FormatException($"{name} must be true or false, not '{other}'"),
        };

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\z")]
    private static partial Regex BucketName();

    [GeneratedRegex("^[a-z0-9-]{2,32}\\z")]
    private static partial Regex RegionName();
}
