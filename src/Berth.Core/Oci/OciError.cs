namespace Berth.Core.Oci;

/// <summary>An error code of the distribution spec, with the HTTP status Berth sends it with.</summary>
public sealed record OciError(string Code, int Status, string Message)
{
    public static readonly OciError BlobUnknown = new("BLOB_UNKNOWN", 404, "blob unknown to registry");
    public static readonly OciError BlobUploadInvalid = new("BLOB_UPLOAD_INVALID", 400, "blob upload invalid");
    public static readonly OciError BlobUploadUnknown = new("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry");
    public static readonly OciError DigestInvalid = new("DIGEST_INVALID", 400, "provided digest did not match uploaded content");
    public static readonly OciError ManifestBlobUnknown = new("MANIFEST_BLOB_UNKNOWN", 404, "manifest references a manifest or blob unknown to registry");
    public static readonly OciError ManifestInvalid = new("MANIFEST_INVALID", 400, "manifest invalid");
    public static readonly OciError ManifestUnknown = new("MANIFEST_UNKNOWN", 404, "manifest unknown to registry");
    public static readonly OciError NameInvalid = new("NAME_INVALID", 400, "invalid repository name");
    public static readonly OciError NameUnknown = new("NAME_UNKNOWN", 404, "repository name not known to registry");
    public static readonly OciError SizeInvalid = new("SIZE_INVALID", 400, "provided length did not match content length");
    public static readonly OciError Unauthorized = new("UNAUTHORIZED", 401, "authentication required");
    public static readonly OciError Denied = new("DENIED", 403, "requested access to the resource is denied");
    public static readonly OciError Unsupported = new("UNSUPPORTED", 405, "the operation is unsupported");
    public static readonly OciError TooManyRequests = new("TOOMANYREQUESTS", 429, "too many requests");
    public static readonly OciError Unavailable = new("UNAVAILABLE", 503, "service unavailable");
}

/// <summary>A refusal in the distribution spec's terms: its code, an HTTP status, and what to do.</summary>
public sealed class OciException(OciError error, string detail, int? status = null) : Exception(detail)
{
    public OciError Error { get; } = error;

    /// <summary>The HTTP status (the code's usual one unless the spec asks for another here, e.g. 413 or 416).</summary>
    public int Status { get; } = status ?? error.Status;

    /// <summary>Headers to send with the error (e.g. <c>Range</c> for a chunk out of order).</summary>
    public Dictionary<string, string> Headers { get; } = new(StringComparer.Ordinal);
}
