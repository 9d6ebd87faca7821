using System.Net;
using System.Net.Http.Headers;
using Berth.Api.Tests.Support;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Berth.Core.Maintenance;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Api.Tests;

/// <summary>Resumable uploads and commits: wrong bytes are refused and removed, nothing half-done is visible.</summary>
public sealed class UploadTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestServer _server = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _server = await TestServer.StartAsync(services => services.AddSingleton<TimeProvider>(_clock));

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Http => _server.Http;

    [Fact]
    public async Task AnUploadResumesFromTheOffsetTheServerReports()
    {
        var bytes = ModelFolder.Bytes(300_000, 1);
        var upload = await StartAsync("resume");

        Assert.Equal(200_000, await AppendAsync(upload.Location, bytes[..200_000], 0));
        using (var status = await Http.GetAsync(upload.Location, Ct))
        {
            Assert.Equal("200000", status.Headers.GetValues("Upload-Offset").Single());
            Assert.Equal(200_000, (await status.ReadAsync(BerthJsonContext.Default.UploadInfo)).Offset);
        }

        // A chunk that does not start at the durable offset is refused with the offset to resume from.
        using (var wrong = await PatchAsync(upload.Location, bytes[100_000..], 100_000))
        {
            var problem = await wrong.AssertProblemAsync(HttpStatusCode.Conflict, "upload_offset_mismatch");
            Assert.Equal(200_000, problem.GetProperty("offset").GetInt64());
            Assert.Equal("200000", wrong.Headers.GetValues("Upload-Offset").Single());
        }

        Assert.Equal(300_000, await AppendAsync(upload.Location, bytes[200_000..], 200_000));
        var blob = await FinishAsync(upload.Location, ModelFolder.Sha256(bytes), bytes.Length);
        Assert.Equal(ModelFolder.Sha256(bytes), blob.Digest);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(BlobPath(blob.Digest), Ct));
        await (await Http.GetAsync(upload.Location, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "upload_not_found");
    }

    [Fact]
    public async Task BytesThatDoNotMatchTheDigestAreRefusedAndRemoved()
    {
        var bytes = ModelFolder.Bytes(50_000, 2);
        var upload = await StartAsync("mismatch");
        await AppendAsync(upload.Location, bytes, 0);
        var wrongDigest = ModelFolder.Sha256(ModelFolder.Bytes(50_000, 3));

        using var finish = await Http.PutAsync($"{upload.Location}?digest={wrongDigest}&size={bytes.Length}", null, Ct);
        var problem = await finish.AssertProblemAsync(HttpStatusCode.BadRequest, "digest_mismatch");
        Assert.Equal(ModelFolder.Sha256(bytes), problem.GetProperty("actual").GetString());

        Assert.False(Directory.Exists(Path.Combine(_server.DataDirectory, "store", "uploads", upload.Id)));
        Assert.False(File.Exists(BlobPath(wrongDigest)));
        Assert.False(File.Exists(BlobPath(ModelFolder.Sha256(bytes))));
        await AssertNoBlobRowAsync(wrongDigest);
        await (await Http.GetAsync(upload.Location, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "upload_not_found");
    }

    [Fact]
    public async Task BytesThatDoNotMatchTheDeclaredSizeAreRefusedAndRemoved()
    {
        var bytes = ModelFolder.Bytes(10_000, 4);
        var digest = ModelFolder.Sha256(bytes);
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await Http.PostAsync($"/api/v1/models/acme/size/uploads?digest={digest}&size=9999", content, Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "size_mismatch");
        Assert.False(File.Exists(BlobPath(digest)));
        await AssertNoBlobRowAsync(digest);
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_server.DataDirectory, "store", "uploads")));
    }

    [Fact]
    public async Task AOneRequestUploadStoresTheBlob()
    {
        var bytes = ModelFolder.Bytes(4096, 5);
        var digest = ModelFolder.Sha256(bytes);
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await Http.PostAsync($"/api/v1/models/acme/mono/uploads?digest={digest}&size={bytes.Length}", content, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(BlobPath(digest), Ct));
    }

    [Fact]
    public async Task UploadBodiesMustBeOctetStreams()
    {
        var upload = await StartAsync("types");
        using var request = new HttpRequestMessage(HttpMethod.Patch, upload.Location) { Content = Support.Http.Json("{}") };
        using var response = await Http.SendAsync(request, Ct);
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task ACommitWithMissingBlobsIsAConflictListingThemAndThePendingVersionStaysInvisible()
    {
        var present = ModelFolder.Bytes(1000, 6);
        var absent = ModelFolder.Bytes(2000, 7);
        var json = $$"""
            {"version":"1.0.0","files":[
              {"path":"present.bin","size":1000,"digest":"{{ModelFolder.Sha256(present)}}"},
              {"path":"absent.bin","size":2000,"digest":"{{ModelFolder.Sha256(absent)}}"}]}
            """;
        using var created = await Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/acme/pending/versions", json, Ct);
        var declared = await created.ReadAsync(BerthJsonContext.Default.CreateVersionResponse);
        Assert.Equal(VersionStates.Pending, declared.Version.State);
        Assert.Equal(2, declared.MissingBlobs.Count);

        var upload = await StartAsync("pending");
        await AppendAsync(upload.Location, present, 0);
        await FinishAsync(upload.Location, ModelFolder.Sha256(present), present.Length);

        using var commit = await Http.PostAsync("/api/v1/models/acme/pending/versions/1/commit", null, Ct);
        var problem = await commit.AssertProblemAsync(HttpStatusCode.Conflict, "blobs_missing");
        Assert.Equal([ModelFolder.Sha256(absent)], problem.GetProperty("missing").EnumerateArray().Select(e => e.GetString()).ToList());

        // Pending: shown by number with its state, absent everywhere else.
        var byNumber = await (await Http.GetAsync("/api/v1/models/acme/pending/versions/1", Ct)).ReadAsync(BerthJsonContext.Default.VersionInfo);
        Assert.Equal(VersionStates.Pending, byNumber.State);
        await (await Http.GetAsync("/api/v1/models/acme/pending/versions/latest", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "version_not_found");
        await (await Http.GetAsync("/api/v1/models/acme/pending/versions/1/files/present.bin", Ct)).AssertProblemAsync(HttpStatusCode.Conflict, "version_not_ready");
        await (await Http.GetAsync("/api/v1/models/acme/pending/versions/1/archive", Ct)).AssertProblemAsync(HttpStatusCode.Conflict, "version_not_ready");
        var listed = await (await Http.GetAsync("/api/v1/models/acme/pending/versions", Ct)).ReadAsync(BerthJsonContext.Default.PageVersionInfo);
        Assert.Empty(listed.Items);
        var model = await (await Http.GetAsync("/api/v1/models/acme/pending", Ct)).ReadAsync(BerthJsonContext.Default.ModelInfo);
        Assert.Equal(0, model.VersionCount);
        Assert.Null(model.LatestVersion);

        // Upload the rest, and the commit succeeds.
        var second = await StartAsync("pending");
        await AppendAsync(second.Location, absent, 0);
        await FinishAsync(second.Location, ModelFolder.Sha256(absent), absent.Length);
        var ready = await (await Http.PostAsync("/api/v1/models/acme/pending/versions/1/commit", null, Ct)).ReadAsync(BerthJsonContext.Default.VersionInfo);
        Assert.Equal(VersionStates.Ready, ready.State);
        var again = await (await Http.PostAsync("/api/v1/models/acme/pending/versions/1/commit", null, Ct)).ReadAsync(BerthJsonContext.Default.VersionInfo);
        Assert.Equal(ready.Revision, again.Revision);
    }

    [Fact]
    public async Task AbandonedUploadsAndPendingVersionsExpire()
    {
        var upload = await StartAsync("expire");
        await AppendAsync(upload.Location, ModelFolder.Bytes(1000, 8), 0);
        using (var created = await Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/acme/expire/versions",
                   Support.Http.CreateVersionJson(ModelFolder.Sha256(ModelFolder.Bytes(5, 9)), 5, version: "3.0.0"), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // Advancing the clock also wakes the background run; running it here as well makes the end state certain.
        _clock.Advance(TimeSpan.FromHours(25));
        await _server.Services.GetRequiredService<MaintenanceService>().RunOnceAsync(Ct);

        await (await Http.GetAsync(upload.Location, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "upload_not_found");
        Assert.False(Directory.Exists(Path.Combine(_server.DataDirectory, "store", "uploads", upload.Id)));
        var failed = await (await Http.GetAsync("/api/v1/models/acme/expire/versions/1", Ct)).ReadAsync(BerthJsonContext.Default.VersionInfo);
        Assert.Equal(VersionStates.Failed, failed.State);
        Assert.Null(failed.SemVer);

        // The semantic version of a failed push is free again.
        using var retry = await Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/acme/expire/versions",
            Support.Http.CreateVersionJson(ModelFolder.Sha256(ModelFolder.Bytes(5, 9)), 5, version: "3.0.0"), Ct);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
    }

    [Fact]
    public async Task CancellingAnUploadRemovesItsData()
    {
        var upload = await StartAsync("cancel");
        await AppendAsync(upload.Location, ModelFolder.Bytes(1000, 10), 0);
        using var cancel = await Http.DeleteAsync(upload.Location, Ct);
        Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(_server.DataDirectory, "store", "uploads", upload.Id)));
        await (await Http.GetAsync(upload.Location, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "upload_not_found");
    }

    [Fact]
    public async Task UploadsAreScopedToTheirModelAndIdsAreValidated()
    {
        var upload = await StartAsync("scoped");
        await (await Http.GetAsync($"/api/v1/models/acme/other/uploads/{upload.Id}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "upload_not_found");
        await (await Http.GetAsync("/api/v1/models/acme/scoped/uploads/..%2F..%2Fetc", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "upload_not_found");
        await (await Http.GetAsync("/api/v1/models/acme/scoped/uploads/ZZZZ", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "upload_not_found");
    }

    [Fact]
    public async Task FinishingWithAnInvalidDigestIsA400AndKeepsTheUpload()
    {
        var upload = await StartAsync("bad-digest");
        await AppendAsync(upload.Location, ModelFolder.Bytes(10, 11), 0);
        using var finish = await Http.PutAsync($"{upload.Location}?digest=sha256:xyz", null, Ct);
        await finish.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_digest");
        using var status = await Http.GetAsync(upload.Location, Ct);
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
    }

    [Fact]
    public async Task AOneRequestUploadWhoseContentLengthIsNotItsSizeIsRefusedBeforeTheBodyIsSent()
    {
        var digest = ModelFolder.Sha256(ModelFolder.Bytes(1, 12));
        await using var raw = await RawHttp.StartAsync(_server, "POST", $"/api/v1/models/acme/early/uploads?digest={digest}&size=1",
            ["Content-Type: application/octet-stream", $"Content-Length: {200L * 1024 * 1024}"], Ct);
        await raw.SendAsync(ModelFolder.Bytes(64 * 1024, 12), Ct);

        // 64 KiB of the announced 200 MiB: the answer must come without the rest.
        var (status, body) = await raw.ReadResponseAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(400, status);
        Assert.Contains("\"size_mismatch\"", body, StringComparison.Ordinal);
        await AssertNoUploadsLeftAsync();
    }

    [Fact]
    public async Task AChunkedOneRequestUploadStopsReadingOneBytePastItsSize()
    {
        var digest = ModelFolder.Sha256(ModelFolder.Bytes(10, 13));
        await using var raw = await RawHttp.StartAsync(_server, "POST", $"/api/v1/models/acme/chunked/uploads?digest={digest}&size=10",
            ["Content-Type: application/octet-stream", "Transfer-Encoding: chunked"], Ct);
        await raw.SendChunkAsync(ModelFolder.Bytes(4096, 13), Ct);

        // The chunked body never ends: the server answers after the eleventh byte.
        var (status, body) = await raw.ReadResponseAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(400, status);
        Assert.Contains("\"size_mismatch\"", body, StringComparison.Ordinal);
        Assert.Contains("\"actual\":11", body, StringComparison.Ordinal);
        await AssertNoUploadsLeftAsync();
    }

    [Fact]
    public async Task AnAbortedOneRequestUploadIsDeletedAtOnce()
    {
        var digest = ModelFolder.Sha256(ModelFolder.Bytes(10_000_000, 14));
        var raw = await RawHttp.StartAsync(_server, "POST", $"/api/v1/models/acme/aborted/uploads?digest={digest}&size=10000000",
            ["Content-Type: application/octet-stream", "Content-Length: 10000000"], Ct);
        await raw.SendAsync(ModelFolder.Bytes(1_000_000, 14), Ct);
        await WaitUntilAsync(async () => await UploadSessionCountAsync() == 1, "the upload to start");
        raw.Abort();

        // The server notices the broken connection by itself; nothing may stay for the 24 hours of a resumable session.
        await WaitUntilAsync(async () => await UploadSessionCountAsync() == 0 && !UploadFolders().Any(), "the aborted upload to be deleted");
        await raw.DisposeAsync();
    }

    [Fact]
    public async Task AnUploadSessionNeverHoldsMoreThanTheLargestBlob()
    {
        await using var server = await TestServer.StartAsync("--Registry:MaxBlobSize", "100000");
        using var started = await server.Http.PostAsync("/api/v1/models/acme/capped/uploads", null, Ct);
        var upload = await started.ReadAsync(BerthJsonContext.Default.UploadInfo);

        // Announced: refused before any byte is read.
        await using (var raw = await RawHttp.StartAsync(server, "PATCH", upload.Location,
                         ["Content-Type: application/octet-stream", "Upload-Offset: 0", "Content-Length: 100001"], Ct))
        {
            var (status, body) = await raw.ReadResponseAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(413, status);
            Assert.Contains("\"body_too_large\"", body, StringComparison.Ordinal);
        }

        // Chunked: cut off at the limit; what came before stays, so the offset says where the session stands.
        await using (var raw = await RawHttp.StartAsync(server, "PATCH", upload.Location,
                         ["Content-Type: application/octet-stream", "Upload-Offset: 0", "Transfer-Encoding: chunked"], Ct))
        {
            for (var i = 0; i < 30; i++)
            {
                await raw.SendChunkAsync(ModelFolder.Bytes(4096, 15 + i), Ct);
            }

            var (status, body) = await raw.ReadResponseAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(413, status);
            Assert.Contains("\"body_too_large\"", body, StringComparison.Ordinal);
        }

        using var state = await server.Http.GetAsync(upload.Location, Ct);
        Assert.True((await state.ReadAsync(BerthJsonContext.Default.UploadInfo)).Offset <= 100_000);

        // A declared file over the limit is refused at declaration, before anything is uploaded.
        using var declared = await server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/acme/capped/versions",
            Support.Http.CreateVersionJson(ModelFolder.Sha256(ModelFolder.Bytes(1, 1)), 100_001), Ct);
        var problem = await declared.AssertProblemAsync(HttpStatusCode.BadRequest, "file_too_large");
        Assert.Equal(100_000, problem.GetProperty("limit").GetInt64());
    }

    private async Task<int> UploadSessionCountAsync()
    {
        await using var scope = _server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().UploadSessions.CountAsync(Ct);
    }

    private IEnumerable<string> UploadFolders() => Directory.EnumerateDirectories(Path.Combine(_server.DataDirectory, "store", "uploads"));

    private async Task AssertNoUploadsLeftAsync()
    {
        Assert.Equal(0, await UploadSessionCountAsync());
        Assert.Empty(UploadFolders());
    }

    /// <summary>Polls for something the server does in the background of a request (no fixed sleep), up to 30 s.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(50, Ct);
        }
    }

    private async Task<UploadInfo> StartAsync(string model)
    {
        using var response = await Http.PostAsync($"/api/v1/models/acme/{model}/uploads", null, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadAsync(BerthJsonContext.Default.UploadInfo);
    }

    private async Task<HttpResponseMessage> PatchAsync(string location, byte[] bytes, long offset)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await Http.SendAsync(request, Ct);
    }

    private async Task<long> AppendAsync(string location, byte[] bytes, long offset)
    {
        using var response = await PatchAsync(location, bytes, offset);
        return (await response.ReadAsync(BerthJsonContext.Default.UploadInfo)).Offset;
    }

    private async Task<BlobInfo> FinishAsync(string location, string digest, long size)
    {
        using var response = await Http.PutAsync($"{location}?digest={digest}&size={size}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadAsync(BerthJsonContext.Default.BlobInfo);
    }

    private string BlobPath(string digest)
    {
        var hex = Digest.Parse(digest).Hex;
        return Path.Combine(_server.DataDirectory, "store", "blobs", "sha256", hex[..2], hex);
    }

    private async Task AssertNoBlobRowAsync(string digest)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Blobs.AnyAsync(b => b.Digest == digest, Ct));
    }
}
