using System.Net;
using System.Net.Http.Headers;
using Amazon.S3;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Server.Hosting;
using Berth.Testing.S3;

namespace Berth.Api.Tests;

/// <summary>
/// Servers whose blobs live in a real S3 engine (radosgw, started by scripts/test.sh): push and pull through the
/// proxy and through presigned redirects, and what happens when the store refuses or disappears.
/// </summary>
public sealed class S3StorageTests : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;

    private readonly string _prefix = TestS3.NewPrefix("server");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await TestS3.EnsureBucketAsync(Ct);

    public async ValueTask DisposeAsync() => await TestS3.DeletePrefixAsync(_prefix, CancellationToken.None);

    [Fact]
    public async Task PushedVersionsPullBackIntactThroughTheServerWithRanges()
    {
        // Without the OCI manifests built in the background: their config blobs pass through the bucket while it is listed.
        await using var server = await TestServer.StartAsync("--blobs", TestS3.Setting(_prefix, "&part-size-mb=5"), "--Oci:BuildInBackground=false");
        using var model = new ModelFolder(("weights.bin", (11 * MiB) + 321), ("config.json", 300), ("empty.txt", 0));
        var version = (await server.Client.PushAsync(model.Root, "acme", "on-s3", new PushOptions(), cancellationToken: Ct)).Version;
        Assert.Equal(VersionStates.Ready, version.State);

        var output = TempFolder.Create("berth-pull");
        try
        {
            await server.Client.PullAsync(ModelReference.Parse("acme/on-s3:1"), output, new PullOptions(), cancellationToken: Ct);
            ModelFolder.AssertSameTree(model.Root, output);
        }
        finally
        {
            TempFolder.Delete(output);
        }

        // Each file's blob is in the bucket, and nothing of the upload is left.
        var keys = (await TestS3.ListAsync(_prefix, Ct)).Select(o => o.Key).ToList();
        Assert.Equal(model.Digests().Select(d => TestS3.BlobKey(_prefix, d)).Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));

        var bytes = await File.ReadAllBytesAsync(Path.Combine(model.Root, "weights.bin"), Ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models/acme/on-s3/versions/1/files/weights.bin");
        request.Headers.Range = new RangeHeaderValue(6 * MiB, (6 * MiB) + 99_999);
        using var range = await server.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(bytes[(6 * MiB)..((6 * MiB) + 100_000)], await range.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task RedirectModeSendsDownloadsToAPresignedUrlAndTheClientStillVerifiesThem()
    {
        await using var server = await TestServer.StartAsync("--blobs", TestS3.Setting(_prefix, "&download=redirect"));
        using var model = new ModelFolder(("weights.bin", 700_000));
        await server.Client.PushAsync(model.Root, "acme", "redirected", new PushOptions(), cancellationToken: Ct);
        var digest = ModelFolder.Sha256(await File.ReadAllBytesAsync(Path.Combine(model.Root, "weights.bin"), Ct));

        using var raw = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.Address };
        raw.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        using var redirect = await raw.GetAsync("/api/v1/models/acme/redirected/versions/1/files/weights.bin", Ct);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
        var location = redirect.Headers.Location!;
        Assert.Equal(TestS3.Endpoint.Authority, location.Authority);
        Assert.Contains("X-Amz-Signature=", location.Query, StringComparison.Ordinal);
        // Five minutes, give or take the second the signer rounds up.
        var expires = int.Parse(System.Web.HttpUtility.ParseQueryString(location.Query)["X-Amz-Expires"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, 295, 301);
        Assert.Equal(digest, redirect.Headers.GetValues("Berth-Digest").Single());

        // HEAD is answered by the server (a presigned URL is valid for GET only).
        using var head = await raw.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/models/acme/redirected/versions/1/files/weights.bin"), Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(700_000, head.Content.Headers.ContentLength);

        var output = TempFolder.Create("berth-pull");
        try
        {
            await server.Client.PullAsync(ModelReference.Parse("acme/redirected:1"), output, new PullOptions(), cancellationToken: Ct);
            ModelFolder.AssertSameTree(model.Root, output);
        }
        finally
        {
            TempFolder.Delete(output);
        }
    }

    [Fact]
    public async Task CredentialsTheStoreRefusesStopStartUpWithAMessageNamingTheSetting()
    {
        var failure = await Assert.ThrowsAsync<StartupException>(() =>
            TestServer.StartAsync("--blobs", TestS3.Setting(_prefix, secretKey: "not-the-secret-42")));
        Assert.StartsWith("--blobs (BERTH_BLOBS): The blob store (S3 bucket 'berth-tests'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("SignatureDoesNotMatch", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-secret-42", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhenTheBucketGoesAwayUploadsFailCleanlyNoVersionBecomesReadyAndServiceResumesWhenItIsBack()
    {
        var bucket = "berth-outage-" + Guid.NewGuid().ToString("N")[..12];
        using var s3 = TestS3.NewClient();
        await s3.PutBucketAsync(bucket, Ct);
        var setting = TestS3.Setting(_prefix).Replace($"s3://{TestS3.Bucket}/", $"s3://{bucket}/", StringComparison.Ordinal);
        var server = await TestServer.StartAsync("--blobs", setting);
        using var model = new ModelFolder(("weights.bin", 200_000));

        await s3.DeleteBucketAsync(bucket, Ct);
        var failure = await Assert.ThrowsAsync<BerthProblemException>(() =>
            server.Client.PushAsync(model.Root, "acme", "outage", new PushOptions(), cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failure.Status);
        Assert.Equal("storage_failed", failure.Code);
        Assert.Contains($"S3 bucket '{bucket}'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("NoSuchBucket", failure.Message, StringComparison.Ordinal);

        var pending = await server.Client.GetVersionAsync(ModelReference.Parse("acme/outage:1"), cancellationToken: Ct);
        Assert.Equal(VersionStates.Pending, pending.State);
        var commit = await Assert.ThrowsAsync<BerthProblemException>(() => server.Client.CommitVersionAsync("acme", "outage", 1, Ct));
        Assert.Equal("blobs_missing", commit.Code);

        using var ready = await server.Http.GetAsync("/readyz", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

        await s3.PutBucketAsync(bucket, Ct);
        try
        {
            var pushed = await server.Client.PushAsync(model.Root, "acme", "outage", new PushOptions(), cancellationToken: Ct);
            Assert.Equal(VersionStates.Ready, pushed.Version.State);
        }
        finally
        {
            await server.DisposeAsync(); // first: it may still be writing (the version's OCI config, built in the background)
            await DeleteBucketAsync(s3, bucket);
        }
    }

    private static async Task DeleteBucketAsync(AmazonS3Client s3, string bucket)
    {
        var listing = await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket }, CancellationToken.None);
        foreach (var item in listing.S3Objects ?? [])
        {
            await s3.DeleteObjectAsync(bucket, item.Key, CancellationToken.None);
        }

        await s3.DeleteBucketAsync(bucket, CancellationToken.None);
    }
}
