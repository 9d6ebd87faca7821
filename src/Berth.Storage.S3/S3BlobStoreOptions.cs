namespace Berth.Storage.S3;

/// <summary>Where and how the S3 blob store keeps its objects; built from a <c>--blobs s3://…</c> setting by <see cref="S3BlobsSetting"/>.</summary>
public sealed class S3BlobStoreOptions
{
    /// <summary>S3 requires every part of a multipart upload but the last to hold at least 5 MiB.</summary>
    public const int MinPartSize = 5 * 1024 * 1024;

    /// <summary>The largest part this store stages (S3 allows 5 GiB; one part is buffered in memory per open upload).</summary>
    public const int MaxPartSize = 512 * 1024 * 1024;

    public const int DefaultPartSize = 8 * 1024 * 1024;

    public required string Bucket { get; init; }

    /// <summary>Key prefix inside the bucket, empty or ending in '/'.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>The S3 endpoint of an S3-compatible store (null: AWS, by region).</summary>
    public Uri? Endpoint { get; init; }

    public string Region { get; init; } = "us-east-1";

    /// <summary>Address buckets as <c>endpoint/bucket/key</c> instead of <c>bucket.endpoint/key</c>.</summary>
    public bool ForcePathStyle { get; init; }

    /// <summary>
    /// Send and check the SDK's flexible checksums only when an operation requires them. Many S3-compatible
    /// stores (Ceph 16, older MinIO) reject the SDK's default aws-chunked uploads with trailing checksums.
    /// Berth verifies SHA-256 itself either way.
    /// </summary>
    public bool ChecksumsWhenRequired { get; init; }

    public S3TransferMode Download { get; init; } = S3TransferMode.Proxy;

    /// <summary>Redirect: clients may ask for presigned URLs and write upload parts straight into the bucket.</summary>
    public S3TransferMode Upload { get; init; } = S3TransferMode.Proxy;

    /// <summary>Static credentials; null: the AWS SDK's default chain (environment variables, profile, instance role).</summary>
    public string? AccessKey { get; init; }

    public string? SecretKey { get; init; }

    /// <summary>Size of the staged parts of an upload (see docs/storage-layout.md).</summary>
    public int PartSize { get; init; } = DefaultPartSize;

    /// <summary>For logs and messages: bucket, prefix and endpoint, never a credential.</summary>
    public string Description =>
        $"S3 bucket '{Bucket}'{(Prefix.Length > 0 ? $" prefix '{Prefix}'" : "")} at {(Endpoint is null ? $"AWS {Region}" : Endpoint.GetLeftPart(UriPartial.Authority))}";
}
