using System.Globalization;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;

namespace Berth.Storage.S3;

/// <summary>
/// The object layout of the S3 store (documented in docs/storage-layout.md), below the configured prefix:
/// <code>
/// blobs/sha256/&lt;first two hex&gt;/&lt;64 hex&gt;     a blob (only ever written by completing a verified upload)
/// uploads/&lt;upload id&gt;/part-&lt;nnnnn&gt;           a full staged part of an upload (part size bytes)
/// uploads/&lt;upload id&gt;/tail-&lt;nnnnn&gt;           the bytes after the last full part, made durable by a flush
/// uploads/&lt;upload id&gt;/direct                 the multipart upload (then object) a client writes with presigned URLs
/// </code>
/// Only validated digests and generated upload ids become key segments.
/// </summary>
internal sealed class S3Keys(string prefix)
{
    private const string PartPrefix = "part-";
    private const string TailPrefix = "tail-";
    private const string DirectName = "direct";

    public string BlobsRoot { get; } = prefix + "blobs/sha256/";

    public string UploadsRoot { get; } = prefix + "uploads/";

    public string Blob(Digest digest) => $"{BlobsRoot}{digest.Hex[..2]}/{digest.Hex}";

    public string Upload(UploadId id) => $"{UploadsRoot}{id.Value}/";

    public string Part(UploadId id, int number) => Upload(id) + PartPrefix + number.ToString("D5", CultureInfo.InvariantCulture);

    public string Tail(UploadId id, int number) => Upload(id) + TailPrefix + number.ToString("D5", CultureInfo.InvariantCulture);

    public string Direct(UploadId id) => Upload(id) + DirectName;

    /// <summary>Recognises <c>uploads/&lt;id&gt;/direct</c>.</summary>
    public bool TryParseDirect(string key, out UploadId id) =>
        TryParseUploadKey(key, out id, out var name) && name == DirectName;

    public bool TryParseBlob(string key, out Digest digest)
    {
        digest = default;
        if (!key.StartsWith(BlobsRoot, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key.AsSpan(BlobsRoot.Length);
        return rest.Length == 67 && rest[2] == '/' &&
            Digest.TryParse(Digest.Sha256Prefix + rest[3..].ToString(), out digest) &&
            rest[..2].SequenceEqual(digest.Hex.AsSpan(0, 2));
    }

    /// <summary>Splits <c>uploads/&lt;id&gt;/&lt;kind&gt;-&lt;n&gt;</c> into its parts.</summary>
    public bool TryParseUpload(string key, out UploadId id, out bool isPart, out int number)
    {
        isPart = false;
        number = 0;
        if (!TryParseUploadKey(key, out id, out var name))
        {
            return false;
        }

        isPart = name.StartsWith(PartPrefix, StringComparison.Ordinal);
        if (!isPart && !name.StartsWith(TailPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        return int.TryParse(name.AsSpan(PartPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out number) && number > 0;
    }

    private bool TryParseUploadKey(string key, out UploadId id, out string name)
    {
        id = default;
        name = "";
        if (!key.StartsWith(UploadsRoot, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key[UploadsRoot.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !UploadId.TryParse(rest[..slash], out id))
        {
            return false;
        }

        name = rest[(slash + 1)..];
        return true;
    }
}
