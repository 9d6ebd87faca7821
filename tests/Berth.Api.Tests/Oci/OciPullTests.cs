using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests.Oci;

/// <summary>
/// Pulling through /v2/ (distribution spec v1.1, the pull and content-discovery workflows) from a real server: every
/// selector is a tag of the ModelPack form, layers are the version's files byte for byte, ranges, tags list paging,
/// referrers, the model car image, and the spec's errors.
/// </summary>
public sealed class OciPullTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(VersionInfo Version, ModelFolder Folder)> PushAsync(string model, string? semver = null, IReadOnlyList<string>? aliases = null)
    {
        var folder = new ModelFolder(("model.safetensors", 300_000), ("config.json", 700), ("README.md", 90), ("sub/tokenizer.json", 2_000));
        var pushed = await Server.Client.PushAsync(folder.Root, "pulls", model, new PushOptions { Version = semver, Aliases = aliases, Description = "a model" }, cancellationToken: Ct);
        return (pushed.Version, folder);
    }

    [Fact]
    public async Task EverySelectorIsATagOfTheSameModelPackManifestWhoseLayersAreTheFiles()
    {
        var (version, folder) = await PushAsync("fraud", "1.2.0", ["candidate"]);
        using var _ = folder;
        await Server.Client.ChangeStageAsync(Versions.Ref("pulls", "fraud", version.Number), "staging", cancellationToken: Ct);
        using var http = Oci.Basic(Server, "admin", Server.AdminToken);

        var (body, digest, type) = await Oci.GetManifestAsync(http, "pulls/fraud", "latest");
        Assert.Equal(Oci.ManifestType, type);
        foreach (var tag in new[] { $"{version.Number}", "1.2.0", "candidate", "staging", digest })
        {
            var again = await Oci.GetManifestAsync(http, "pulls/fraud", tag);
            Assert.Equal(digest, again.Digest);
        }

        using var manifest = JsonDocument.Parse(body);
        var root = manifest.RootElement;
        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(Oci.ModelManifestType, root.GetProperty("artifactType").GetString());
        Assert.Equal(Oci.ModelConfigType, root.GetProperty("config").GetProperty("mediaType").GetString());
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["README.md", "config.json", "model.safetensors", "sub/tokenizer.json"],
            layers.Select(l => l.GetProperty("annotations").GetProperty("org.cncf.model.filepath").GetString()!).ToList());
        Assert.Equal("application/vnd.cncf.model.doc.v1.raw", layers[0].GetProperty("mediaType").GetString());
        Assert.Equal("application/vnd.cncf.model.weight.config.v1.raw", layers[1].GetProperty("mediaType").GetString());
        Assert.Equal("application/vnd.cncf.model.weight.v1.raw", layers[2].GetProperty("mediaType").GetString());

        // Each layer is the file's bytes; the config names the version.
        foreach (var layer in layers)
        {
            var path = layer.GetProperty("annotations").GetProperty("org.cncf.model.filepath").GetString()!;
            var bytes = await http.GetByteArrayAsync($"/v2/pulls/fraud/blobs/{layer.GetProperty("digest").GetString()}", Ct);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(folder.Root, path), Ct), bytes);
            Assert.Equal(bytes.Length, layer.GetProperty("size").GetInt64());
        }

        var configDigest = root.GetProperty("config").GetProperty("digest").GetString()!;
        using var configResponse = await http.GetAsync($"/v2/pulls/fraud/blobs/{configDigest}", Ct);
        var configBytes = await configResponse.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(configDigest, Oci.Digest(configBytes));
        Assert.Equal(configDigest, configResponse.Headers.GetValues("Docker-Content-Digest").Single());
        using var config = JsonDocument.Parse(configBytes);
        Assert.Equal("pulls/fraud", config.RootElement.GetProperty("descriptor").GetProperty("name").GetString());
        Assert.Equal("1.2.0", config.RootElement.GetProperty("descriptor").GetProperty("version").GetString());
        Assert.Equal("a model", config.RootElement.GetProperty("descriptor").GetProperty("description").GetString());
        Assert.Equal(layers.Select(l => l.GetProperty("digest").GetString()).ToList(),
            config.RootElement.GetProperty("modelfs").GetProperty("diffIds").EnumerateArray().Select(d => d.GetString()).ToList());
    }

    [Fact]
    public async Task TheManifestIsBuiltOnceSoItsDigestNeverChanges()
    {
        var (version, folder) = await PushAsync("stable");
        using var _ = folder;
        using var http = Oci.Basic(Server, "admin", Server.AdminToken);
        var first = await Oci.GetManifestAsync(http, "pulls/stable", $"{version.Number}");
        // Editing the version's description does not rebuild it.
        await Server.Client.UpdateVersionAsync(Versions.Ref("pulls", "stable", version.Number), new UpdateVersionRequest(Description: "edited"), cancellationToken: Ct);
        var second = await Oci.GetManifestAsync(http, "pulls/stable", $"{version.Number}");
        Assert.Equal(first.Digest, second.Digest);
        Assert.Equal(first.Body, second.Body);
    }

    [Fact]
    public async Task HeadAndRangeRequestsAnswerWithLengthsAndDigests()
    {
        var (version, folder) = await PushAsync("ranges");
        using var _ = folder;
        using var http = Oci.Basic(Server, "admin", Server.AdminToken);
        using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/pulls/ranges/manifests/latest"), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.True(head.Content.Headers.ContentLength > 0);
            Assert.StartsWith("sha256:", head.Headers.GetValues("Docker-Content-Digest").Single(), StringComparison.Ordinal);
        }

        var file = version.Files?.FirstOrDefault(f => f.Path == "model.safetensors")
            ?? (await Server.Client.GetVersionAsync(Versions.Ref("pulls", "ranges", version.Number), withFiles: true, Ct)).Files!.Single(f => f.Path == "model.safetensors");
        using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/pulls/ranges/blobs/{file.Digest}"), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(300_000, head.Content.Headers.ContentLength);
            Assert.Equal(file.Digest, head.Headers.GetValues("Docker-Content-Digest").Single());
        }

        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/v2/pulls/ranges/blobs/{file.Digest}");
        ranged.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var partial = await http.SendAsync(ranged, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        var whole = await File.ReadAllBytesAsync(Path.Combine(folder.Root, "model.safetensors"), Ct);
        Assert.Equal(whole.AsSpan(1000, 1000).ToArray(), await partial.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task TagsListIsLexicalAndPagesWithNAndLast()
    {
        var (first, f1) = await PushAsync("tags", "1.0.0", ["champion"]);
        using var _ = f1;
        var (_, f2) = await PushAsync("tags", "2.0.0");
        using var __ = f2;
        await Server.Client.ChangeStageAsync(Versions.Ref("pulls", "tags", first.Number), "production", cancellationToken: Ct);
        using var http = Oci.Basic(Server, "admin", Server.AdminToken);

        using var all = JsonDocument.Parse(await http.GetStringAsync("/v2/pulls/tags/tags/list", Ct));
        Assert.Equal("pulls/tags", all.RootElement.GetProperty("name").GetString());
        var tags = all.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList();
        Assert.Equal(["1", "1.0.0", "2", "2.0.0", "champion", "latest", "production"], tags);

        using var page = await http.GetAsync("/v2/pulls/tags/tags/list?n=3", Ct);
        using (var json = JsonDocument.Parse(await page.Content.ReadAsStringAsync(Ct)))
        {
            Assert.Equal(["1", "1.0.0", "2"], json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList());
        }

        Assert.Contains("last=2", page.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
        Assert.Contains("rel=\"next\"", page.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
        using (var rest = JsonDocument.Parse(await http.GetStringAsync("/v2/pulls/tags/tags/list?n=10&last=2", Ct)))
        {
            Assert.Equal(["2.0.0", "champion", "latest", "production"], rest.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList());
        }

        using var none = await http.GetAsync("/v2/pulls/tags/tags/list?n=0", Ct);
        Assert.False(none.Headers.Contains("Link"));
        using (var empty = JsonDocument.Parse(await none.Content.ReadAsStringAsync(Ct)))
        {
            Assert.Empty(empty.RootElement.GetProperty("tags").EnumerateArray());
        }
    }

    [Fact]
    public async Task UnknownThingsAreTheSpecsErrors()
    {
        var (_, folder) = await PushAsync("errors");
        using var __ = folder;
        using var http = Oci.Basic(Server, "admin", Server.AdminToken);
        using (var r = await http.GetAsync("/v2/pulls/errors/manifests/nope", Ct))
        {
            await Oci.AssertErrorAsync(r, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }

        using (var r = await http.GetAsync($"/v2/pulls/errors/manifests/sha256:{new string('a', 64)}", Ct))
        {
            await Oci.AssertErrorAsync(r, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }

        using (var r = await http.GetAsync("/v2/pulls/missing-model/manifests/latest", Ct))
        {
            await Oci.AssertErrorAsync(r, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        }

        using (var r = await http.GetAsync($"/v2/pulls/errors/blobs/sha256:{new string('b', 64)}", Ct))
        {
            await Oci.AssertErrorAsync(r, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        }

        using (var r = await http.GetAsync("/v2/pulls/errors/blobs/sha256:xyz", Ct))
        {
            await Oci.AssertErrorAsync(r, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        }

        using (var r = await http.GetAsync("/v2/Pulls/UPPER/tags/list", Ct))
        {
            await Oci.AssertErrorAsync(r, HttpStatusCode.BadRequest, "NAME_INVALID");
        }
    }

    [Fact]
    public async Task ABlobIsReadableOnlyThroughARepositoryThatHasIt()
    {
        using var secret = new ModelFolder();
        secret.Write("secret.bin", 4096, seed: Random.Shared.Next());
        var pushed = await Server.Client.PushAsync(secret.Root, "pulls", "owner", new PushOptions(), cancellationToken: Ct);
        var (_, other) = await PushAsync("bystander");
        using var __ = other;
        var file = (await Server.Client.GetVersionAsync(Versions.Ref("pulls", "owner", pushed.Version.Number), withFiles: true, Ct)).Files!.Single();
        using var http = Oci.Basic(Server, "admin", Server.AdminToken);
        using (var r = await http.GetAsync($"/v2/pulls/owner/blobs/{file.Digest}", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        using var refused = await http.GetAsync($"/v2/pulls/bystander/blobs/{file.Digest}", Ct);
        await Oci.AssertErrorAsync(refused, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task ReferrersOfAManifestWithoutAnyAreAnEmptyIndex()
    {
        var (_, folder) = await PushAsync("lonely");
        using var _ = folder;
        using var http = Oci.Basic(Server, "admin", Server.AdminToken);
        var (_, digest, _) = await Oci.GetManifestAsync(http, "pulls/lonely", "latest");
        using var response = await http.GetAsync($"/v2/pulls/lonely/referrers/{digest}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Oci.IndexType, response.Content.Headers.ContentType!.MediaType);
        using var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Empty(index.RootElement.GetProperty("manifests").EnumerateArray());
    }

    [Fact]
    public async Task TheModelcarIsAReproducibleImageWithTheFilesUnderModels()
    {
        var (version, folder) = await PushAsync("car", "3.1.0");
        using var _ = folder;
        using var http = Oci.Basic(Server, "admin", Server.AdminToken);
        var (body, digest, type) = await Oci.GetManifestAsync(http, "pulls/car/modelcar", "3.1.0");
        Assert.Equal(Oci.ManifestType, type);
        Assert.Equal(digest, (await Oci.GetManifestAsync(http, "pulls/car/modelcar", $"{version.Number}")).Digest);
        using var manifest = JsonDocument.Parse(body);
        Assert.Equal("application/vnd.oci.image.config.v1+json", manifest.RootElement.GetProperty("config").GetProperty("mediaType").GetString());
        var layer = manifest.RootElement.GetProperty("layers").EnumerateArray().Single();
        Assert.Equal("application/vnd.oci.image.layer.v1.tar", layer.GetProperty("mediaType").GetString());

        var tar = await http.GetByteArrayAsync($"/v2/pulls/car/modelcar/blobs/{layer.GetProperty("digest").GetString()}", Ct);
        Assert.Equal(layer.GetProperty("digest").GetString(), Oci.Digest(tar));
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var names = new List<string>();
        using (var reader = new TarReader(new MemoryStream(tar)))
        {
            while (await reader.GetNextEntryAsync(copyData: true, Ct) is { } entry)
            {
                names.Add(entry.Name);
                Assert.Equal(0, entry.Uid);
                if (entry.DataStream is { } data)
                {
                    using var copy = new MemoryStream();
                    await data.CopyToAsync(copy, Ct);
                    entries[entry.Name] = copy.ToArray();
                }
            }
        }

        Assert.Equal(["models/", "models/sub/", "models/README.md", "models/config.json", "models/model.safetensors", "models/sub/tokenizer.json"], names);
        foreach (var path in new[] { "README.md", "config.json", "model.safetensors", "sub/tokenizer.json" })
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(folder.Root, path), Ct), entries[$"models/{path}"]);
        }

        using var config = JsonDocument.Parse(await http.GetByteArrayAsync($"/v2/pulls/car/modelcar/blobs/{manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()}", Ct));
        Assert.Equal(layer.GetProperty("digest").GetString(), config.RootElement.GetProperty("rootfs").GetProperty("diff_ids")[0].GetString());

        // The model car is stored once it is built; its tags are the model's selectors only.
        Assert.Equal(digest, (await Oci.GetManifestAsync(http, "pulls/car/modelcar", "latest")).Digest);
        using var tags = JsonDocument.Parse(await http.GetStringAsync("/v2/pulls/car/modelcar/tags/list", Ct));
        Assert.Equal("pulls/car/modelcar", tags.RootElement.GetProperty("name").GetString());
        Assert.Contains("3.1.0", tags.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public void TheModelcarTarIsTheSameBytesEveryTime()
    {
        var facts = new Core.Oci.VersionFacts("a", "b", 1, null, null, DateTimeOffset.Parse("2026-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture), "u", "sha256:" + new string('0', 64), [new FileEntry("x/y.bin", 3, "sha256:" + new string('1', 64))]);
        var first = Core.Oci.ModelPackBuilder.Build(facts);
        var second = Core.Oci.ModelPackBuilder.Build(facts with { Files = [.. facts.Files] });
        Assert.Equal(first.Manifest, second.Manifest);
        Assert.Equal(first.Config, second.Config);
        Assert.Equal(Encoding.UTF8.GetString(first.Manifest), Encoding.UTF8.GetString(second.Manifest));
    }
}
