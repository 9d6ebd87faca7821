using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Berth.Testing.S3;

/// <summary>
/// The real S3 engine the S3 tests run against: Ceph's radosgw, which scripts/test.sh starts and describes
/// in <see cref="EndpointVariable"/>, <see cref="AccessKeyVariable"/> and <see cref="SecretKeyVariable"/>.
/// Without it these tests fail (they never skip). Each test works under a prefix of its own in one bucket.
/// </summary>
public static class TestS3
{
    public const string EndpointVariable = "BERTH_TEST_S3_ENDPOINT";
    public const string AccessKeyVariable = "BERTH_TEST_S3_ACCESS_KEY";
    public const string SecretKeyVariable = "BERTH_TEST_S3_SECRET_KEY";
    public const string Bucket = "berth-tests";

    private static readonly SemaphoreSlim BucketLock = new(1, 1);
    private static bool _bucketReady;

    public static Uri Endpoint => new(Required(EndpointVariable));

    public static string AccessKey => Required(AccessKeyVariable);

    public static string SecretKey => Required(SecretKeyVariable);

    /// <summary>A fresh key prefix (no trailing slash) for one test.</summary>
    public static string NewPrefix(string name) => $"{name}-{Guid.NewGuid():N}";

    /// <summary>A <c>--blobs</c> value for the test engine under <paramref name="prefix"/>; <paramref name="extra"/> adds parameters.</summary>
    public static string Setting(string prefix, string extra = "", string? secretKey = null, Uri? endpoint = null) =>
        $"s3://{Bucket}/{prefix}?endpoint={Uri.EscapeDataString((endpoint ?? Endpoint).ToString())}&region=us-east-1&path-style=true" +
        $"&checksums=when-required&access-key={Uri.EscapeDataString(AccessKey)}&secret-key={Uri.EscapeDataString(secretKey ?? SecretKey)}{extra}";

    public static AmazonS3Client NewClient() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = Endpoint.ToString(),
        AuthenticationRegion = "us-east-1",
        ForcePathStyle = true,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    public static async Task EnsureBucketAsync(CancellationToken cancellationToken)
    {
        await BucketLock.WaitAsync(cancellationToken);
        try
        {
            if (_bucketReady)
            {
                return;
            }

            using var s3 = NewClient();
            try
            {
                await s3.PutBucketAsync(Bucket, cancellationToken);
            }
            catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
            {
            }

            _bucketReady = true;
        }
        finally
        {
            BucketLock.Release();
        }
    }

    /// <summary>The keys under <paramref name="prefix"/>, in order.</summary>
    /// <summary>The key of the blob <paramref name="digest"/> (<c>sha256:…</c>) in a store under <paramref name="prefix"/>.</summary>
    public static string BlobKey(string prefix, string digest) => $"{prefix}/blobs/sha256/{digest[7..9]}/{digest[7..]}";

    public static async Task<List<S3Object>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        using var s3 = NewClient();
        var result = new List<S3Object>();
        string? token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix + "/", ContinuationToken = token }, cancellationToken);
            result.AddRange(page.S3Objects ?? []);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return result;
    }

    public static async Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        using var s3 = NewClient();
        foreach (var item in await ListAsync(prefix, cancellationToken))
        {
            await s3.DeleteObjectAsync(Bucket, item.Key, cancellationToken);
        }
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{variable} is not set. The S3 tests need a real S3 engine: run scripts/test.sh, which starts a throwaway radosgw and sets it.");
}
