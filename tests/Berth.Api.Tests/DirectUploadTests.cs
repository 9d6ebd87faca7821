using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Testing.S3;

namespace Berth.Api.Tests;

/// <summary>
/// Uploads written straight into a real S3 engine (radosgw) with presigned part URLs (<c>upload=redirect</c>): the
/// bytes bypass Berth, which verifies them by reading them back before they become a blob; what a client writes
/// wrongly, partly or the other way is refused and leaves nothing behind.
/// </summary>
public sealed class DirectUploadTests : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;

    private readonly string _prefix = TestS3.NewPrefix("direct");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await TestS3.EnsureBucketAsync(Ct);

    public async ValueTask DisposeAsync() => await TestS3.DeletePrefixAsync(_prefix, CancellationToken.None);

    [Fact]
    public async Task APushWritesLargeFilesStraightToTheBucketAndTheyPullBackIntact()
    {
        await using var server = await StartAsync();
        using var model = new ModelFolder(("weights.bin", (23 * MiB) + 4321), ("config.json", 300));
        var calls = new ConcurrentQueue<string>();
        using var client = new BerthClient(new BerthClientOptions { BaseUri = server.Address, Token = server.AdminToken }, new Recorder(calls));

        // A small threshold so that the 23 MiB file goes through an upload session rather than one request.
        var pushed = await client.PushAsync(model.Root, "acme", "direct", new PushOptions { SingleRequestLimit = MiB, StreamWhileHashingThreshold = MiB }, cancellationToken: Ct);
        Assert.Equal(VersionStates.Ready, pushed.Version.State);

        // Parts were asked for and none of the bytes came through Berth: the only PATCH-free way for 23 MiB to arrive.
        Assert.Contains(calls, c => c.StartsWith("POST", StringComparison.Ordinal) && c.EndsWith("/parts", StringComparison.Ordinal));
        Assert.DoesNotContain(calls, c => c.StartsWith("PATCH", StringComparison.Ordinal));

        var output = TempFolder.Create("berth-pull");
        try
        {
            await server.Client.PullAsync(ModelReference.Parse("acme/direct:1"), output, new PullOptions(), cancellationToken: Ct);
            ModelFolder.AssertSameTree(model.Root, output);
        }
        finally
        {
            TempFolder.Delete(output);
        }

        // Each file's blob is in the bucket, and nothing of the upload is left.
        var keys = (await TestS3.ListAsync(_prefix, Ct)).Select(o => o.Key).ToList();
        Assert.Equal(model.Digests().Select(d => TestS3.BlobKey(_prefix, d)).Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
        Assert.Empty(await MultipartUploadsAsync());
    }

    [Fact]
    public async Task PartsThatDoNotHashToTheDeclaredDigestAreDiscardedAndNothingReachesTheContentAddress()
    {
        await using var server = await StartAsync();
        var upload = await server.Client.StartUploadAsync("acme", "forged", Ct);
        var honest = Random(33 * MiB, seed: 1);
        var forged = Random(33 * MiB, seed: 2);
        var plan = (await server.Client.PlanDirectUploadAsync(upload.Location, honest.Length, Ct))!;
        Assert.Equal(3, plan.Parts.Count);
        Assert.Equal(16 * MiB, plan.PartSize);
        await PutPartsAsync(plan, forged);

        var digest = Digest.FromHash(System.Security.Cryptography.SHA256.HashData(honest));
        var failure = await Assert.ThrowsAsync<BerthProblemException>(() => server.Client.FinishUploadAsync(upload.Location, digest, honest.Length, Ct));
        Assert.Equal("digest_mismatch", failure.Code);

        var keys = (await TestS3.ListAsync(_prefix, Ct)).Select(o => o.Key).ToList();
        Assert.Empty(keys);
        Assert.Empty(await MultipartUploadsAsync());
        var gone = await Assert.ThrowsAsync<BerthProblemException>(() => server.Client.GetUploadOffsetAsync(upload.Location, Ct));
        Assert.Equal("upload_not_found", gone.Code);
    }

    /// <summary>Knowing another namespace's digest is not enough on the direct path either: the parts must hash to it.</summary>
    [Fact]
    public async Task AnotherNamespacesDigestNeedsItsBytesWrittenToTheBucketBeforeACommit()
    {
        await using var server = await StartAsync();
        var secret = Random((6 * MiB) + 5, seed: 6);
        var digest = Digest.FromHash(System.Security.Cryptography.SHA256.HashData(secret));
        await server.CreateNamespaceAsync("victim");
        var owner = await server.Client.StartUploadAsync("victim", "private", Ct);
        await PutPartsAsync((await server.Client.PlanDirectUploadAsync(owner.Location, secret.Length, Ct))!, secret);
        await server.Client.FinishUploadAsync(owner.Location, digest, secret.Length, Ct);
        var declaredByOwner = await server.Client.CreateVersionAsync("victim", "private", new CreateVersionRequest([new FileEntry("secret.bin", secret.Length, digest.ToString())]), cancellationToken: Ct);
        await server.Client.CommitVersionAsync("victim", "private", declaredByOwner.Version.Number, Ct);

        using var attacker = await server.AddUserAsync("mallory");
        var declared = await attacker.Client.CreateVersionAsync("mallory", "stolen", new CreateVersionRequest([new FileEntry("secret.bin", secret.Length, digest.ToString())]), cancellationToken: Ct);
        Assert.Equal([digest.ToString()], declared.MissingBlobs);

        var forged = await attacker.Client.StartUploadAsync("mallory", "stolen", Ct);
        await PutPartsAsync((await attacker.Client.PlanDirectUploadAsync(forged.Location, secret.Length, Ct))!, Random(secret.Length, seed: 7));
        var mismatch = await Assert.ThrowsAsync<BerthProblemException>(() => attacker.Client.FinishUploadAsync(forged.Location, digest, secret.Length, Ct));
        Assert.Equal("digest_mismatch", mismatch.Code);
        var missing = await Assert.ThrowsAsync<BerthProblemException>(() => attacker.Client.CommitVersionAsync("mallory", "stolen", declared.Version.Number, Ct));
        Assert.Equal("blobs_missing", missing.Code);

        // The real bytes, written straight to the bucket: verified, the stored copy kept, and the version commits.
        var honest = await attacker.Client.StartUploadAsync("mallory", "stolen", Ct);
        await PutPartsAsync((await attacker.Client.PlanDirectUploadAsync(honest.Location, secret.Length, Ct))!, secret);
        await attacker.Client.FinishUploadAsync(honest.Location, digest, secret.Length, Ct);
        var ready = await attacker.Client.CommitVersionAsync("mallory", "stolen", declared.Version.Number, Ct);
        Assert.Equal(VersionStates.Ready, ready.State);
        // One stored copy, nothing of the uploads left.
        var keys = (await TestS3.ListAsync(_prefix, Ct)).Select(o => o.Key).ToList();
        Assert.Equal([TestS3.BlobKey(_prefix, digest.ToString())], keys);
        Assert.Empty(await MultipartUploadsAsync());
    }

    [Fact]
    public async Task AnInterruptedDirectUploadResumesWithThePartsAlreadyThere()
    {
        await using var server = await StartAsync();
        var upload = await server.Client.StartUploadAsync("acme", "resumed", Ct);
        var bytes = Random((32 * MiB) + 17, seed: 3);
        var plan = (await server.Client.PlanDirectUploadAsync(upload.Location, bytes.Length, Ct))!;
        await PutPartsAsync(plan, bytes, only: 2);

        var again = (await server.Client.PlanDirectUploadAsync(upload.Location, bytes.Length, Ct))!;
        Assert.Equal([false, true, false], again.Parts.Select(p => p.Uploaded));
        Assert.Equal(0, await server.Client.GetUploadOffsetAsync(upload.Location, Ct));

        await PutPartsAsync(again, bytes);
        Assert.Equal(bytes.Length, await server.Client.GetUploadOffsetAsync(upload.Location, Ct));
        var digest = Digest.FromHash(System.Security.Cryptography.SHA256.HashData(bytes));
        var blob = await server.Client.FinishUploadAsync(upload.Location, digest, bytes.Length, Ct);
        Assert.Equal(digest.ToString(), blob.Digest);

        using var s3 = TestS3.NewClient();
        using var stored = await s3.GetObjectAsync(TestS3.Bucket, $"{_prefix}/blobs/sha256/{digest.Hex[..2]}/{digest.Hex}", Ct);
        using var copy = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(copy, Ct);
        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task AMissingPartIsASizeMismatchAndTheUploadIsDiscarded()
    {
        await using var server = await StartAsync();
        var upload = await server.Client.StartUploadAsync("acme", "gap", Ct);
        var bytes = Random(33 * MiB, seed: 4);
        var plan = (await server.Client.PlanDirectUploadAsync(upload.Location, bytes.Length, Ct))!;
        await PutPartsAsync(plan, bytes, only: 1);
        await PutPartsAsync(plan, bytes, only: 3);

        var digest = Digest.FromHash(System.Security.Cryptography.SHA256.HashData(bytes));
        var failure = await Assert.ThrowsAsync<BerthProblemException>(() => server.Client.FinishUploadAsync(upload.Location, digest, bytes.Length, Ct));
        Assert.Equal("size_mismatch", failure.Code);
        Assert.Equal(16 * MiB, failure.Extensions["actual"].GetInt64());
        Assert.Empty(await TestS3.ListAsync(_prefix, Ct));
        Assert.Empty(await MultipartUploadsAsync());
    }

    [Fact]
    public async Task AnUploadIsWrittenOneWayOnly()
    {
        await using var server = await StartAsync();
        var direct = await server.Client.StartUploadAsync("acme", "one-way", Ct);
        var bytes = Random(17 * MiB, seed: 5);
        await PutPartsAsync((await server.Client.PlanDirectUploadAsync(direct.Location, bytes.Length, Ct))!, bytes, only: 1);
        var patch = await Assert.ThrowsAsync<BerthProblemException>(() => server.Client.AppendUploadAsync(direct.Location, new MemoryStream(new byte[100]), 0, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, patch.Status);
        Assert.Equal("upload_mode_conflict", patch.Code);

        // The refused PATCH touched nothing: the part is still there, and the upload still takes parts.
        var again = (await server.Client.PlanDirectUploadAsync(direct.Location, bytes.Length, Ct))!;
        Assert.Equal([true, false], again.Parts.Select(p => p.Uploaded));

        var proxied = await server.Client.StartUploadAsync("acme", "one-way", Ct);
        await server.Client.AppendUploadAsync(proxied.Location, new MemoryStream(new byte[100]), 0, cancellationToken: Ct);
        var plan = await Assert.ThrowsAsync<BerthProblemException>(() => server.Client.PlanDirectUploadAsync(proxied.Location, 6 * MiB, Ct));
        Assert.Equal("upload_mode_conflict", plan.Code);
        Assert.Equal(100, await server.Client.GetUploadOffsetAsync(proxied.Location, Ct));

        await server.Client.CancelUploadAsync(direct.Location, Ct);
        await server.Client.CancelUploadAsync(proxied.Location, Ct);
        Assert.Empty(await MultipartUploadsAsync());
        Assert.Empty(await TestS3.ListAsync(_prefix, Ct));
    }

    [Fact]
    public async Task ABadPlanRequestIsRefusedWithACode()
    {
        // One server for every case: each asks for parts of a fresh upload.
        (string Body, HttpStatusCode Status, string Code)[] cases =
        [
            ("{\"size\":0}", HttpStatusCode.BadRequest, "invalid_request"),
            ("{\"size\":-5}", HttpStatusCode.BadRequest, "invalid_request"),
            ("{\"size\":1099511627776000}", HttpStatusCode.RequestEntityTooLarge, "body_too_large"),
            ("{\"size\":\"big\"}", HttpStatusCode.BadRequest, "invalid_json"),
            ("{}", HttpStatusCode.BadRequest, "invalid_json"),
        ];
        await using var server = await StartAsync();
        foreach (var (body, status, code) in cases)
        {
            var upload = await server.Client.StartUploadAsync("acme", "bad-plan", Ct);
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            using var response = await server.Http.PostAsync(upload.Location + "/parts", content, Ct);
            Assert.Equal(status, response.StatusCode);
            Assert.Equal(code, (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct)).GetProperty("code").GetString());
        }

        Assert.Empty(await MultipartUploadsAsync());
    }

    [Fact]
    public async Task AServerThatProxiesUploadsSaysSoAndTheClientFallsBackToPatch()
    {
        await using var server = await TestServer.StartAsync("--blobs", TestS3.Setting(_prefix, "&part-size-mb=5"));
        var upload = await server.Client.StartUploadAsync("acme", "proxied", Ct);
        using var content = JsonContent.Create(new { size = 6 * MiB });
        using var response = await server.Http.PostAsync(upload.Location + "/parts", content, Ct);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("direct_upload_unavailable", (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct)).GetProperty("code").GetString());

        using var model = new ModelFolder(("weights.bin", 7 * MiB));
        var calls = new ConcurrentQueue<string>();
        using var client = new BerthClient(new BerthClientOptions { BaseUri = server.Address, Token = server.AdminToken }, new Recorder(calls));
        var pushed = await client.PushAsync(model.Root, "acme", "proxied", new PushOptions { SingleRequestLimit = MiB, StreamWhileHashingThreshold = MiB }, cancellationToken: Ct);
        Assert.Equal(VersionStates.Ready, pushed.Version.State);
        Assert.Contains(calls, c => c.StartsWith("PATCH", StringComparison.Ordinal));
    }

    // Without the OCI manifests built in the background: their config blobs pass through the bucket's upload area while
    // these tests list it.
    private async Task<TestServer> StartAsync() =>
        await TestServer.StartAsync("--blobs", TestS3.Setting(_prefix, "&part-size-mb=5&upload=redirect&download=redirect"), "--Oci:BuildInBackground=false");

    private async Task<List<Amazon.S3.Model.MultipartUpload>> MultipartUploadsAsync()
    {
        using var s3 = TestS3.NewClient();
        var listing = await s3.ListMultipartUploadsAsync(new Amazon.S3.Model.ListMultipartUploadsRequest { BucketName = TestS3.Bucket, Prefix = _prefix + "/" }, Ct);
        return listing.MultipartUploads ?? [];
    }

    /// <summary>PUTs the parts of <paramref name="plan"/> (or only part number <paramref name="only"/>) with the slices of <paramref name="bytes"/>.</summary>
    private static async Task PutPartsAsync(DirectUploadPlan plan, byte[] bytes, int? only = null)
    {
        using var http = new HttpClient();
        foreach (var part in plan.Parts.Where(p => only is null ? !p.Uploaded : p.Number == only))
        {
            using var body = new ByteArrayContent(bytes, (int)part.Offset, (int)part.Size);
            using var response = await http.PutAsync(new Uri(part.Url), body, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static byte[] Random(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Records the method and path of every request the SDK sends to Berth (not those to the object store).</summary>
    private sealed class Recorder(ConcurrentQueue<string> calls) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            calls.Enqueue($"{request.Method} {request.RequestUri!.AbsolutePath}");
            return base.SendAsync(request, cancellationToken);
        }
    }
}
