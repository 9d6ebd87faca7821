using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests.Oci;

/// <summary>
/// Pushing through /v2/ (the push and content-management workflows): monolithic, chunked and resumable uploads into the
/// one content-addressed store, cross-repository mounts, manifests by tag and digest, models that become Berth versions,
/// other manifests stored as pushed with referrers, deletion, and bad input refused with the spec's error and nothing stored.
/// </summary>
public sealed class OciPushTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private HttpClient Admin() => Oci.Basic(Server, "admin", Server.AdminToken);

    private static byte[] Random(int size) => ModelFolder.Bytes(size, System.Random.Shared.Next());

    private async Task<DateTime> StoredAtAsync(string digest)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Blobs.Where(b => b.Digest == digest).Select(b => b.CreatedAt).SingleAsync(Ct);
    }

    /// <summary>The manifests clients pushed to a repository (Berth builds others in the background, which would make a count of all race).</summary>
    private async Task<int> PushedManifestsAsync(string ns, string model)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        return await db.OciManifests.CountAsync(m => m.Origin == Core.Data.Entities.OciManifestOrigin.Pushed && db.Models.Any(x => x.Id == m.ModelId && x.Name == model && x.Namespace.Name == ns), Ct);
    }

    private async Task<bool> IsStoredAsync(string digest)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        return await db.Blobs.AnyAsync(b => b.Digest == digest, Ct) || await db.OciManifests.AnyAsync(m => m.Digest == digest, Ct);
    }

    [Fact]
    public async Task AModelPackPushedWithASemanticVersionBecomesAVersionThatPullsBackByteIdentical()
    {
        using var http = Admin();
        var weights = Random(200_000);
        var tokenizer = Encoding.UTF8.GetBytes("{\"vocab\":[1,2,3]}");
        var config = Encoding.UTF8.GetBytes("{\"descriptor\":{\"name\":\"tiny\",\"version\":\"9.9.9\",\"description\":\"pushed with OCI\",\"licenses\":[\"Apache-2.0\"]},\"config\":{\"format\":\"safetensors\",\"paramSize\":\"8b\",\"precision\":\"bf16\"},\"modelfs\":{\"type\":\"layers\",\"diffIds\":[]}}");
        var w = await Oci.PushBlobAsync(http, "pushes/tiny", weights);
        var t = await Oci.PushBlobAsync(http, "pushes/tiny", tokenizer);
        var c = await Oci.PushBlobAsync(http, "pushes/tiny", config);
        var manifest = Oci.ModelPack(c, config.Length, [("model.safetensors", w, weights.Length), ("tokenizer/tokenizer.json", t, tokenizer.Length)]);
        using (var put = await Oci.PutManifestAsync(http, "pushes/tiny", "1.0.0", manifest))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(Oci.Digest(manifest), put.Headers.GetValues("Docker-Content-Digest").Single());
            Assert.Equal($"/v2/pushes/tiny/manifests/{Oci.Digest(manifest)}", put.Headers.Location!.ToString());
        }

        var version = await Server.Client.GetVersionAsync(ModelReference.Parse("pushes/tiny:1.0.0"), withFiles: true, Ct);
        Assert.Equal("pushed with OCI", version.Description);
        Assert.Equal(["model.safetensors", "tokenizer/tokenizer.json"], version.Files!.Select(f => f.Path).ToList());
        Assert.Equal("safetensors", version.Tags["modelpack.format"]);
        Assert.Equal("8b", version.Tags["modelpack.paramSize"]);

        // Pulled back over OCI: the exact bytes pushed, by tag and by digest.
        var (body, digest, _) = await Oci.GetManifestAsync(http, "pushes/tiny", "1.0.0");
        Assert.Equal(manifest, body);
        Assert.Equal(digest, (await Oci.GetManifestAsync(http, "pushes/tiny", $"{version.Number}")).Digest);

        // And with berth pull: the files at their annotated paths.
        var output = TempFolder.Create("berth-oci-pull");
        try
        {
            await Server.Client.PullAsync(ModelReference.Parse("pushes/tiny:1.0.0"), output, new PullOptions(), cancellationToken: Ct);
            Assert.Equal(weights, await File.ReadAllBytesAsync(Path.Combine(output, "model.safetensors"), Ct));
            Assert.Equal(tokenizer, await File.ReadAllBytesAsync(Path.Combine(output, "tokenizer", "tokenizer.json"), Ct));
        }
        finally
        {
            TempFolder.Delete(output);
        }

        // Pushing it again under an alias names the same version; under another semantic version it is refused.
        using (var again = await Oci.PutManifestAsync(http, "pushes/tiny", "champion", manifest))
        {
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }

        Assert.Equal(version.Number, (await Server.Client.GetVersionAsync(ModelReference.Parse("pushes/tiny:champion"), cancellationToken: Ct)).Number);
        using var other = await Oci.PutManifestAsync(http, "pushes/tiny", "2.0.0", manifest);
        await Oci.AssertErrorAsync(other, HttpStatusCode.Forbidden, "DENIED");
    }

    [Fact]
    public async Task ALayerBerthPushAlreadyStoredIsNotStoredTwice()
    {
        using var folder = new ModelFolder();
        folder.Write("shared.bin", 50_000, seed: System.Random.Shared.Next());
        await Server.Client.PushAsync(folder.Root, "pushes", "dedup", new PushOptions(), cancellationToken: Ct);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(folder.Root, "shared.bin"), Ct);
        var before = await StoredAtAsync(Oci.Digest(bytes));
        using var http = Admin();
        // The client checks first (HEAD) and finds it; uploading it anyway keeps the one stored copy.
        using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/pushes/dedup/blobs/{Oci.Digest(bytes)}"), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        }

        await Oci.PushBlobAsync(http, "pushes/dedup", bytes);
        Assert.Equal(before, await StoredAtAsync(Oci.Digest(bytes)));
        var files = Directory.EnumerateFiles(Path.Combine(Server.DataDirectory, "store"), Oci.Digest(bytes)[7..], SearchOption.AllDirectories).ToList();
        Assert.Single(files);
    }

    [Fact]
    public async Task ChunkedUploadsResumeFromTheRangeTheServerReportsAndRefuseChunksOutOfOrder()
    {
        using var http = Admin();
        var bytes = Random(30_000);
        using var start = await http.PostAsync("/v2/pushes/chunks/blobs/uploads/", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!.ToString();
        Assert.Equal("0-0", start.Headers.GetValues("Range").Single());

        async Task<HttpResponseMessage> PatchAsync(int from, int to)
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(bytes[from..(to + 1)]) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{from}-{to}");
            return await http.SendAsync(request, Ct);
        }

        using (var first = await PatchAsync(0, 9_999))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            Assert.Equal("0-9999", first.Headers.GetValues("Range").Single());
            location = first.Headers.Location!.ToString();
        }

        // Out of order: 416 with where the upload stands; nothing of the chunk is kept.
        using (var skipped = await PatchAsync(20_000, 29_999))
        {
            await Oci.AssertErrorAsync(skipped, HttpStatusCode.RequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID");
            Assert.Equal("0-9999", skipped.Headers.GetValues("Range").Single());
        }

        using (var status = await http.GetAsync(location, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
            Assert.Equal("0-9999", status.Headers.GetValues("Range").Single());
        }

        using (var second = await PatchAsync(10_000, 19_999))
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        }

        // The last chunk rides on the closing PUT.
        using var close = new HttpRequestMessage(HttpMethod.Put, $"{location}?digest={Oci.Digest(bytes)}") { Content = new ByteArrayContent(bytes[20_000..]) };
        close.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        close.Content.Headers.TryAddWithoutValidation("Content-Range", "20000-29999");
        using var closed = await http.SendAsync(close, Ct);
        Assert.Equal(HttpStatusCode.Created, closed.StatusCode);
        Assert.Equal(bytes, await http.GetByteArrayAsync($"/v2/pushes/chunks/blobs/{Oci.Digest(bytes)}", Ct));
    }

    [Fact]
    public async Task AMonolithicPostAndAMountNeedNoSession()
    {
        using var http = Admin();
        var bytes = Random(5_000);
        var digest = Oci.Digest(bytes);
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using (var post = await http.PostAsync($"/v2/pushes/mono/blobs/uploads/?digest={digest}", content, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
            Assert.Equal(digest, post.Headers.GetValues("Docker-Content-Digest").Single());
        }

        using (var missing = await http.GetAsync($"/v2/pushes/mounted/blobs/{digest}", Ct))
        {
            await Oci.AssertErrorAsync(missing, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        }

        using (var mount = await http.PostAsync($"/v2/pushes/mounted/blobs/uploads/?mount={digest}&from=pushes/mono", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
            Assert.Equal($"/v2/pushes/mounted/blobs/{digest}", mount.Headers.Location!.ToString());
        }

        Assert.Equal(bytes, await http.GetByteArrayAsync($"/v2/pushes/mounted/blobs/{digest}", Ct));

        // A writer of another namespace cannot mount what it may not read: it gets an upload session instead.
        await Server.CreateNamespaceIfMissingAsync("mounts");
        using var writer = await Server.AddUserAsync("oci-mounter", "mounts", "writer");
        using var writing = Oci.Basic(Server, writer.Name, writer.Token);
        using var refused = await writing.PostAsync($"/v2/mounts/m/blobs/uploads/?mount={digest}&from=pushes/mono", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, refused.StatusCode);
        using var still = await writing.GetAsync($"/v2/mounts/m/blobs/{digest}", Ct);
        await Oci.AssertErrorAsync(still, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task BadInputIsRefusedWithTheSpecsErrorAndNothingIsStored()
    {
        using var http = Admin();
        var bytes = Random(1_000);
        var config = Encoding.UTF8.GetBytes("{}");
        var c = await Oci.PushBlobAsync(http, "pushes/bad", config);
        var manifests = await PushedManifestsAsync("pushes", "bad");

        // A digest that does not match the bytes.
        using (var start = await http.PostAsync("/v2/pushes/bad/blobs/uploads/", null, Ct))
        using (var content = new ByteArrayContent(bytes))
        using (var put = await http.PutAsync($"{start.Headers.Location}?digest=sha256:{new string('e', 64)}", content, Ct))
        {
            await Oci.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        }

        // A manifest naming a blob the repository does not have.
        var missing = Oci.Image(c, config.Length, [(Oci.Digest(bytes), bytes.Length)]);
        using (var put = await Oci.PutManifestAsync(http, "pushes/bad", "v-missing", missing))
        {
            await Oci.AssertErrorAsync(put, HttpStatusCode.NotFound, "MANIFEST_BLOB_UNKNOWN");
        }

        // A manifest whose digest is not the one in the URL.
        var good = Oci.Image(c, config.Length, []);
        using (var put = await Oci.PutManifestAsync(http, "pushes/bad", $"sha256:{new string('f', 64)}", good))
        {
            await Oci.AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        }

        // Over the size limit.
        var huge = new byte[4 * 1024 * 1024 + 1];
        Array.Fill(huge, (byte)' ');
        using (var put = await Oci.PutManifestAsync(http, "pushes/bad", "huge", huge))
        {
            await Oci.AssertErrorAsync(put, HttpStatusCode.RequestEntityTooLarge, "SIZE_INVALID");
        }

        // Not a manifest, an invalid tag, an invalid name.
        using (var put = await Oci.PutManifestAsync(http, "pushes/bad", "junk", "{\"schemaVersion\":1}"u8.ToArray()))
        {
            await Oci.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        }

        using (var put = await Oci.PutManifestAsync(http, "pushes/bad", "-bad-tag", good))
        {
            await Oci.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        }

        using (var put = await Oci.PutManifestAsync(http, "pushes/BAD", "ok", good))
        {
            await Oci.AssertErrorAsync(put, HttpStatusCode.BadRequest, "NAME_INVALID");
        }

        // A Berth tag on a manifest that is no model.
        using (var put = await Oci.PutManifestAsync(http, "pushes/bad", "latest", good))
        {
            await Oci.AssertErrorAsync(put, HttpStatusCode.Forbidden, "DENIED");
        }

        Assert.Equal(manifests, await PushedManifestsAsync("pushes", "bad"));
        Assert.False(await IsStoredAsync(Oci.Digest(bytes)));
        Assert.False(await IsStoredAsync(Oci.Digest(missing)));
        Assert.False(await IsStoredAsync(Oci.Digest(good)));
        Assert.False(await IsStoredAsync(Oci.Digest(huge)));
    }

    [Fact]
    public async Task ProtectedStagesAndAliasesCannotBeMovedByAPush()
    {
        await Server.CreateNamespaceIfMissingAsync("guarded");
        await Server.PushSmallAsync("guarded", "m");
        await Server.Client.SetStageRuleAsync("guarded", null, "production", new Contracts.Dtos.SetStageRuleRequest(RequiredApprovals: 1), Ct);
        await Server.Client.ProtectAliasAsync("guarded", "m", "champion", cancellationToken: Ct);
        using var http = Admin();
        var weights = Random(1_000);
        var config = "{\"descriptor\":{},\"config\":{},\"modelfs\":{\"type\":\"layers\",\"diffIds\":[]}}"u8.ToArray();
        var w = await Oci.PushBlobAsync(http, "guarded/m", weights);
        var c = await Oci.PushBlobAsync(http, "guarded/m", config);
        var manifest = Oci.ModelPack(c, config.Length, [("w.bin", w, weights.Length)]);
        var manifests = await PushedManifestsAsync("guarded", "m");
        var count = await Server.Client.ListVersionsAsync("guarded", "m", cancellationToken: Ct).CountAsync(Ct);
        foreach (var tag in new[] { "production", "champion" })
        {
            using var put = await Oci.PutManifestAsync(http, "guarded/m", tag, manifest);
            await Oci.AssertErrorAsync(put, HttpStatusCode.Forbidden, "DENIED");
        }

        Assert.Equal(manifests, await PushedManifestsAsync("guarded", "m"));
        Assert.False(await IsStoredAsync(Oci.Digest(manifest)));
        Assert.Equal(count, await Server.Client.ListVersionsAsync("guarded", "m", cancellationToken: Ct).CountAsync(Ct));

        // An unprotected stage is applied.
        using var staged = await Oci.PutManifestAsync(http, "guarded/m", "staging", manifest);
        Assert.Equal(HttpStatusCode.Created, staged.StatusCode);
        Assert.Equal("staging", (await Server.Client.GetVersionAsync(ModelReference.Parse("guarded/m:staging"), cancellationToken: Ct)).Stage);
    }

    [Fact]
    public async Task OtherManifestsAreStoredAsPushedAndListedAsReferrersOfTheirSubject()
    {
        await Server.CreateNamespaceIfMissingAsync("refs");
        await Server.PushSmallAsync("refs", "m");
        using var http = Admin();
        var (subjectBody, subject, _) = await Oci.GetManifestAsync(http, "refs/m", "latest");
        var empty = "{}"u8.ToArray();
        var sbom = Encoding.UTF8.GetBytes("{\"spdxVersion\":\"SPDX-2.3\"}");
        var s = await Oci.PushBlobAsync(http, "refs/m", sbom);
        // The empty config is stored by Berth when a push names it without uploading it.
        var signature = Oci.Image(Oci.Digest(empty), 2, [(s, sbom.Length)], subject, subjectBody.Length, artifactType: "application/spdx+json", configType: "application/vnd.oci.empty.v1+json");
        var digest = Oci.Digest(signature);
        using (var put = await Oci.PutManifestAsync(http, "refs/m", digest, signature))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(subject, put.Headers.GetValues("OCI-Subject").Single());
        }

        Assert.Equal(signature, (await Oci.GetManifestAsync(http, "refs/m", digest)).Body);
        using (var all = JsonDocument.Parse(await http.GetStringAsync($"/v2/refs/m/referrers/{subject}", Ct)))
        {
            var entry = all.RootElement.GetProperty("manifests").EnumerateArray().Single();
            Assert.Equal(digest, entry.GetProperty("digest").GetString());
            Assert.Equal("application/spdx+json", entry.GetProperty("artifactType").GetString());
            Assert.Equal(signature.Length, entry.GetProperty("size").GetInt32());
            Assert.Equal("test", entry.GetProperty("annotations").GetProperty("org.example.note").GetString());
        }

        using (var filtered = await http.GetAsync($"/v2/refs/m/referrers/{subject}?artifactType=application/vnd.dev.cosign.simplesigning.v1%2Bjson", Ct))
        {
            Assert.Equal("artifactType", filtered.Headers.GetValues("OCI-Filters-Applied").Single());
            using var json = JsonDocument.Parse(await filtered.Content.ReadAsStringAsync(Ct));
            Assert.Empty(json.RootElement.GetProperty("manifests").EnumerateArray());
        }

        // Tagged, listed, deleted: the tag first, then the manifest by digest.
        using (var tagged = await Oci.PutManifestAsync(http, "refs/m", "sbom-1", signature))
        {
            Assert.Equal(HttpStatusCode.Created, tagged.StatusCode);
        }

        Assert.Contains("sbom-1", await http.GetStringAsync("/v2/refs/m/tags/list", Ct), StringComparison.Ordinal);
        using (var delete = await http.DeleteAsync("/v2/refs/m/manifests/sbom-1", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        using (var delete = await http.DeleteAsync($"/v2/refs/m/manifests/{digest}", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        using (var gone = await http.GetAsync($"/v2/refs/m/manifests/{digest}", Ct))
        {
            await Oci.AssertErrorAsync(gone, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }

        // Berth's selectors cannot be deleted as tags.
        using var stage = await http.DeleteAsync("/v2/refs/m/manifests/latest", Ct);
        await Oci.AssertErrorAsync(stage, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }

    [Fact]
    public async Task DeletingAVersionsManifestByDigestDeletesTheVersion()
    {
        await Server.CreateNamespaceIfMissingAsync("gone");
        await Server.PushSmallAsync("gone", "m");
        using var http = Admin();
        var (_, digest, _) = await Oci.GetManifestAsync(http, "gone/m", "latest");
        using (var delete = await http.DeleteAsync($"/v2/gone/m/manifests/{digest}", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        using var missing = await http.GetAsync($"/v2/gone/m/manifests/{digest}", Ct);
        await Oci.AssertErrorAsync(missing, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var latest = await http.GetAsync("/v2/gone/m/manifests/latest", Ct);
        await Oci.AssertErrorAsync(latest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }
}
