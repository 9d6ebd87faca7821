using System.Net;
using System.Net.Http.Headers;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// Knowing a blob's digest is not a way to read it: a blob counts as present for a push only when a ready version the
/// pusher may read already holds it (server administrators: any stored blob). Anyone else must upload the bytes, which
/// are verified and, when the store holds them already, not stored again.
/// </summary>
public sealed class BlobPresenceTests : IAsyncLifetime
{
    private static readonly byte[] Secret = ModelFolder.Bytes(5000, 4242);
    private static readonly string SecretDigest = ModelFolder.Sha256(Secret);

    private TestServer _server = null!;
    private TestUser _attacker = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateNamespaceAsync("victim");
        using var folder = new ModelFolder();
        await File.WriteAllBytesAsync(Path.Combine(folder.Root, "secret.bin"), Secret, Ct);
        await _server.Client.PushAsync(folder.Root, "victim", "private", new PushOptions(), cancellationToken: Ct);

        // The attacker has no role in 'victim' and pushes into a namespace of its own.
        _attacker = await _server.AddUserAsync("mallory");
    }

    public async ValueTask DisposeAsync()
    {
        _attacker.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task ADigestFromAnotherNamespaceMustBeUploadedAndOnlyItsRealBytesAreAccepted()
    {
        var declared = await DeclareAsync(_attacker.Http, "mallory", "stolen");
        Assert.Equal([SecretDigest], declared.MissingBlobs);
        var location = $"/api/v1/models/mallory/stolen/versions/{declared.Version.Number}";

        // Without the bytes the version never becomes ready, so nothing can be downloaded through it.
        using (var commit = await _attacker.Http.PostAsync(location + "/commit", null, Ct))
        {
            var problem = await commit.AssertProblemAsync(HttpStatusCode.Conflict, "blobs_missing");
            Assert.Equal([SecretDigest], problem.GetProperty("missing").EnumerateArray().Select(e => e.GetString()).ToList());
        }

        await (await _attacker.Http.GetAsync(location + "/files/secret.bin", Ct)).AssertProblemAsync(HttpStatusCode.Conflict, "version_not_ready");

        // Guessing bytes does not help: they are checked against the digest.
        using (var wrong = await UploadAsync(_attacker.Http, "mallory", "stolen", ModelFolder.Bytes(Secret.Length, 1), SecretDigest))
        {
            await wrong.AssertProblemAsync(HttpStatusCode.BadRequest, "digest_mismatch");
        }

        using (var commit = await _attacker.Http.PostAsync(location + "/commit", null, Ct))
        {
            await commit.AssertProblemAsync(HttpStatusCode.Conflict, "blobs_missing");
        }

        // Whoever has the bytes may push them: they are verified and deduplicated (nothing new is stored).
        var blobsBefore = await BlobRowsAsync();
        var filesBefore = StoredFiles();
        using (var right = await UploadAsync(_attacker.Http, "mallory", "stolen", Secret, SecretDigest))
        {
            Assert.Equal(HttpStatusCode.Created, right.StatusCode);
        }

        Assert.Equal(blobsBefore, await BlobRowsAsync());
        Assert.Equal(filesBefore, StoredFiles());
        using (var commit = await _attacker.Http.PostAsync(location + "/commit", null, Ct))
        {
            Assert.Equal(VersionStates.Ready, (await commit.ReadAsync(BerthJsonContext.Default.VersionInfo)).State);
        }

        Assert.Equal(Secret, await _attacker.Http.GetByteArrayAsync(location + "/files/secret.bin", Ct));
    }

    [Fact]
    public async Task BytesUploadedIntoTheOwnersModelDoNotReleaseAnotherNamespacesDeclaration()
    {
        // The attacker declares first; the owner then pushes the same bytes again, into a model of its own.
        var declared = await DeclareAsync(_attacker.Http, "mallory", "waiting");
        Assert.Equal([SecretDigest], declared.MissingBlobs);
        using (var upload = await UploadAsync(_server.Http, "victim", "again", Secret, SecretDigest))
        {
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }

        using var commit = await _attacker.Http.PostAsync($"/api/v1/models/mallory/waiting/versions/{declared.Version.Number}/commit", null, Ct);
        await commit.AssertProblemAsync(HttpStatusCode.Conflict, "blobs_missing");
    }

    [Fact]
    public async Task ConcurrentDeclarationsOfAnotherNamespacesDigestAllWaitForTheBytes()
    {
        var declarations = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => DeclareAsync(_attacker.Http, "mallory", $"race-{i}")));
        Assert.All(declarations, d => Assert.Equal([SecretDigest], d.MissingBlobs));
        var commits = await Task.WhenAll(declarations.Select(d => _attacker.Http.PostAsync($"/api/v1/models/mallory/race-{Array.IndexOf(declarations, d)}/versions/{d.Version.Number}/commit", null, Ct)));
        foreach (var commit in commits)
        {
            await commit.AssertProblemAsync(HttpStatusCode.Conflict, "blobs_missing");
            commit.Dispose();
        }
    }

    [Fact]
    public async Task BlobCheckAnswersWithinTheSameRule()
    {
        using var own = new ModelFolder(("own.bin", 100));
        await _attacker.Client.PushAsync(own.Root, "mallory", "own", new PushOptions(), cancellationToken: Ct);
        var ownDigest = ModelFolder.Sha256(await File.ReadAllBytesAsync(Path.Combine(own.Root, "own.bin"), Ct));
        var absent = ModelFolder.Sha256(ModelFolder.Bytes(10, 99));

        var forAttacker = await _attacker.Client.CheckBlobsAsync([SecretDigest, ownDigest, absent], Ct);
        Assert.Equal([SecretDigest, absent], forAttacker);
        var forAdmin = await _server.Client.CheckBlobsAsync([SecretDigest, ownDigest, absent], Ct);
        Assert.Equal([absent], forAdmin);
    }

    [Fact]
    public async Task AReaderOfTheOtherNamespaceNeedNotUploadWhatItCanRead()
    {
        using var colleague = await _server.AddUserAsync("colleague", "victim", Roles.Reader);
        var declared = await DeclareAsync(colleague.Http, "colleague-space", "copy");
        Assert.Empty(declared.MissingBlobs);
        using var commit = await colleague.Http.PostAsync($"/api/v1/models/colleague-space/copy/versions/{declared.Version.Number}/commit", null, Ct);
        Assert.Equal(VersionStates.Ready, (await commit.ReadAsync(BerthJsonContext.Default.VersionInfo)).State);
    }

    [Fact]
    public async Task TheSdkPushStillSkipsWhatItMaySkipAndUploadsTheRest()
    {
        using var folder = new ModelFolder(("weights.bin", 20_000), ("config.json", 300));
        var first = await _attacker.Client.PushAsync(folder.Root, "mallory", "sdk", new PushOptions(), cancellationToken: Ct);
        Assert.Equal(2, first.FilesUploaded);

        // The same files again: present in a version the pusher can read, so nothing is uploaded.
        var second = await _attacker.Client.PushAsync(folder.Root, "mallory", "sdk", new PushOptions(), cancellationToken: Ct);
        Assert.Equal(0, second.FilesUploaded);
        Assert.Equal(2, second.Version.Number);

        // The owner's bytes in the attacker's folder: the push uploads them (it has them) and succeeds.
        await File.WriteAllBytesAsync(Path.Combine(folder.Root, "secret.bin"), Secret, Ct);
        var third = await _attacker.Client.PushAsync(folder.Root, "mallory", "sdk", new PushOptions(), cancellationToken: Ct);
        Assert.Equal(1, third.FilesUploaded);
        Assert.Equal(VersionStates.Ready, third.Version.State);
    }

    private async Task<CreateVersionResponse> DeclareAsync(HttpClient http, string ns, string model)
    {
        using var response = await http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/{ns}/{model}/versions",
            Support.Http.CreateVersionJson(SecretDigest, Secret.Length, "secret.bin"), Ct);
        return await response.ReadAsync(BerthJsonContext.Default.CreateVersionResponse);
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient http, string ns, string model, byte[] bytes, string digest)
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await http.PostAsync($"/api/v1/models/{ns}/{model}/uploads?digest={digest}&size={bytes.Length}", content, Ct);
    }

    private async Task<int> BlobRowsAsync()
    {
        await using var scope = _server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Blobs.CountAsync(Ct);
    }

    private int StoredFiles() => Directory.EnumerateFiles(Path.Combine(_server.DataDirectory, "store", "blobs"), "*", SearchOption.AllDirectories).Count();
}
