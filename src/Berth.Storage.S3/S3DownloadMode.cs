namespace Berth.Storage.S3;

/// <summary>How file downloads reach the client.</summary>
public enum S3DownloadMode
{
    /// <summary>Berth streams the object to the client (works when clients cannot reach the object store).</summary>
    Proxy,

    /// <summary>Berth answers 307 with a short-lived presigned GET URL; the client downloads from the store.</summary>
    Redirect,
}
