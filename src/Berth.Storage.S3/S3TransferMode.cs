namespace Berth.Storage.S3;

/// <summary>How file bytes travel between the client and the bucket (set separately for uploads and downloads).</summary>
public enum S3TransferMode
{
    /// <summary>Through Berth, which streams them (works when clients cannot reach the object store).</summary>
    Proxy,

    /// <summary>
    /// Directly: downloads are answered 307 with a short-lived presigned GET URL; uploads get presigned URLs for
    /// their parts, and Berth reads the assembled upload back to verify its digest before it becomes a blob.
    /// </summary>
    Redirect,
}
