using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Berth.Core.Blobs;
using Berth.Core.Diagnostics;

namespace Berth.Storage.S3;

/// <summary>
/// The AWS SDK client configured from <see cref="S3BlobStoreOptions"/>, and the one place that turns the SDK's
/// failures into <see cref="BlobStoreException"/>s naming the store, the operation and the reason.
/// </summary>
internal sealed class S3Client : IDisposable
{
    private readonly S3BlobStoreOptions _options;

    public S3Client(S3BlobStoreOptions options)
    {
        _options = options;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            MaxErrorRetry = 2,
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (options.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        if (options.ChecksumsWhenRequired)
        {
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }

        Sdk = options.AccessKey is { } access && options.SecretKey is { } secret
            ? new AmazonS3Client(new BasicAWSCredentials(access, secret), config)
            : new AmazonS3Client(config);
    }

    public IAmazonS3 Sdk { get; }

    public string Bucket => _options.Bucket;

    public bool IsHttps => _options.Endpoint is null || _options.Endpoint.Scheme == Uri.UriSchemeHttps;

    /// <summary>Runs one S3 call; a failure becomes a <see cref="BlobStoreException"/> saying what failed.</summary>
    public async Task<T> CallAsync<T>(string operation, Func<IAmazonS3, Task<T>> call)
    {
        try
        {
            return await call(Sdk);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw Failure(operation, e);
        }
    }

    public async Task CallAsync(string operation, Func<IAmazonS3, Task> call)
    {
        try
        {
            await call(Sdk);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw Failure(operation, e);
        }
    }

    /// <summary>
    /// Writes <paramref name="key"/> with a multipart upload whose parts <paramref name="writeParts"/> adds (given the
    /// upload id; it returns the parts' ETags in order). The object appears only when the upload completes, whole;
    /// a failure aborts it.
    /// </summary>
    public async Task MultipartAsync(string operation, string key, Func<string, Task<PartETag[]>> writeParts, CancellationToken cancellationToken)
    {
        var multipart = await CallAsync(operation, s3 => s3.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = Bucket, Key = key }, cancellationToken));
        try
        {
            var etags = await writeParts(multipart.UploadId);
            await CallAsync(operation, s3 => s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Bucket,
                Key = key,
                UploadId = multipart.UploadId,
                PartETags = [.. etags],
            }, cancellationToken));
        }
        catch
        {
            try
            {
                await Sdk.AbortMultipartUploadAsync(Bucket, key, multipart.UploadId, CancellationToken.None);
            }
            catch (Exception)
            {
                // The failure is the one to report; the bucket's lifecycle rule removes an orphaned multipart upload.
            }

            throw;
        }
    }

    public static bool IsNotFound(Exception e) =>
        e is AmazonS3Exception { StatusCode: HttpStatusCode.NotFound } ||
        (e is BlobStoreException { InnerException: AmazonS3Exception { StatusCode: HttpStatusCode.NotFound } });

    public BlobStoreException Failure(string operation, Exception e)
    {
        var reason = e switch
        {
            AmazonS3Exception s3 when !string.IsNullOrEmpty(s3.ErrorCode) => $"{s3.ErrorCode} (HTTP {(int)s3.StatusCode}): {s3.Message}",
            _ => ExceptionMessages.Chain(e),
        };
        return new BlobStoreException($"The blob store ({_options.Description}) failed to {operation}: {reason}", e);
    }

    private static bool IsStoreFailure(Exception e) =>
        e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or TimeoutException ||
        (e is TaskCanceledException && e.InnerException is TimeoutException);

    public void Dispose() => Sdk.Dispose();
}
