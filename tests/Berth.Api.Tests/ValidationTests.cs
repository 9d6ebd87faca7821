using System.Net;
using System.Text;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>Bad input gets a 4xx with a stable code and leaves nothing behind.</summary>
public sealed class ValidationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string SomeDigest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string OneFile = "{\"path\":\"a\",\"size\":1,\"digest\":\"" + SomeDigest + "\"}";
    private const string HugeFile = "{\"path\":\"a\",\"size\":9223372036854775807,\"digest\":\"" + SomeDigest + "\"}";
    private const string HugeFile2 = "{\"path\":\"b\",\"size\":9223372036854775807,\"digest\":\"" + SomeDigest + "\"}";
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/api/v1/models/A/fraud", "invalid_name")]
    [InlineData("/api/v1/models/a/fraud", "invalid_name")]
    [InlineData("/api/v1/models/acme/Fraud", "invalid_name")]
    [InlineData("/api/v1/models/acme/-fraud", "invalid_name")]
    [InlineData("/api/v1/models/acme/fraud--x", "invalid_name")]
    [InlineData("/api/v1/models/acme/fraud/versions/07", "invalid_reference")]
    [InlineData("/api/v1/models/acme/fraud/versions/1.2", "invalid_version")]
    [InlineData("/api/v1/models/acme/fraud/versions/sha256:abc", "invalid_reference")]
    [InlineData("/api/v1/models/acme/fraud/versions/Champion", "invalid_reference")]
    public async Task InvalidNamesAndSelectorsAreRejectedNamingTheRule(string url, string code)
    {
        using var response = await Server.Http.GetAsync(url, Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, code == "invalid_version" ? "invalid_reference" : code);
        var offending = url.Split('/').First(segment => segment is "A" or "a" or "Fraud" or "-fraud" or "fraud--x" or "07" or "1.2" or "sha256:abc" or "Champion");
        Assert.Contains($"'{offending}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownThingsAre404WithTheirOwnCodes()
    {
        using var model = new ModelFolder(("m.bin", 10));
        await Server.Client.PushAsync(model.Root, "known", "model", new PushOptions(), cancellationToken: Ct);

        await (await Server.Http.GetAsync("/api/v1/models/nowhere/model", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "namespace_not_found");
        await (await Server.Http.GetAsync("/api/v1/models/known/nope", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "model_not_found");
        await (await Server.Http.GetAsync("/api/v1/models/known/model/versions/42", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "version_not_found");
        await (await Server.Http.GetAsync("/api/v1/models/known/model/versions/9.9.9", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "version_not_found");
        await (await Server.Http.GetAsync("/api/v1/models/known/model/versions/champion", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "alias_not_found");
        await (await Server.Http.GetAsync("/api/v1/models/known/model/versions/production", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "version_not_found");
        await (await Server.Http.GetAsync("/api/v1/models/known/model/versions/1/files/missing.bin", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "file_not_found");
        await (await Server.Http.GetAsync("/api/v1/models/known/model/aliases/nope", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "alias_not_found");
        await (await Server.Http.GetAsync("/api/v1/no/such/route", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData("/abs/model.bin")]
    [InlineData("../escape.bin")]
    [InlineData("a/../../escape.bin")]
    [InlineData("a/./b.bin")]
    [InlineData("dir\\\\file.bin")]
    [InlineData("nul\\u0000byte.bin")]
    [InlineData("a//b.bin")]
    [InlineData("trailing/")]
    [InlineData("C:/windows.bin")]
    public async Task UnsafeManifestPathsAreRejectedAndNothingIsStored(string path)
    {
        var model = "paths-" + Guid.NewGuid().ToString("N")[..8];
        var json = $$"""{"files":[{"path":"{{path}}","size":0,"digest":"{{SomeDigest}}"}]}""";
        using var response = await Server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/acme/{model}/versions", json, Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_path");
        await AssertNoVersionsAsync(model);
    }

    [Fact]
    public async Task RepeatedCaseFoldedOverlongAndFileDirectoryPathsAreRejected()
    {
        var cases = new[]
        {
            new[] { "a.bin", "a.bin" },
            ["Model.bin", "model.bin"],
            ["a", "a/b.bin"],
            [new string('x', 1025)],
        };
        foreach (var paths in cases)
        {
            var model = "paths-" + Guid.NewGuid().ToString("N")[..8];
            var files = string.Join(',', paths.Select(p => $$"""{"path":"{{p}}","size":0,"digest":"{{SomeDigest}}"}"""));
            using var response = await Server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/acme/{model}/versions", $$"""{"files":[{{files}}]}""", Ct);
            await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_path");
            await AssertNoVersionsAsync(model);
        }
    }

    /// <summary>The names of the security review: each set would lose or mangle files on macOS or Windows.</summary>
    [Theory]
    [InlineData("caf\u00E9", "cafe\u0301")]
    [InlineData("\u212A", "k")]
    [InlineData("a.", "a")]
    [InlineData("a ", "a")]
    [InlineData("stra\u00DFe", "STRASSE")]
    [InlineData("CON")]
    [InlineData("NUL")]
    [InlineData("aux.txt")]
    [InlineData("notes\u202Etxt.exe")]
    public async Task PathsThatWouldNotMaterialiseAlikeOnLinuxMacOsAndWindowsAreRejectedNamingThem(params string[] paths)
    {
        var model = "portable-" + Guid.NewGuid().ToString("N")[..8];
        var files = paths.Select((p, i) => new Dictionary<string, object> { ["path"] = p, ["size"] = 1, ["digest"] = SomeDigest }).ToList();
        using var response = await Server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/acme/{model}/versions",
            System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["files"] = files }), Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_path");
        var named = problem.GetProperty("paths").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.NotEmpty(named);
        Assert.All(named, p => Assert.Contains(p, paths));
        await AssertNoVersionsAsync(model);
    }

    [Fact]
    public async Task SizesThatOverflowWhenAddedUpAreA400()
    {
        await using var server = await TestServer.StartAsync("--Registry:MaxBlobSize", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/acme/overflow/versions", $$"""{"files":[{{HugeFile}},{{HugeFile2}}]}""", Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task AVersionWithMoreFilesThanTheServerAllowsIsRefused()
    {
        await using var server = await TestServer.StartAsync("--Registry:MaxFilesPerVersion", "2");
        var files = string.Join(',', Enumerable.Range(0, 3).Select(i => $$"""{"path":"f{{i}}","size":1,"digest":"{{SomeDigest}}"}"""));
        using var response = await server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/acme/many/versions", $$"""{"files":[{{files}}]}""", Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "too_many_files");
        Assert.Equal(2, problem.GetProperty("limit").GetInt32());
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("production")]
    [InlineData("staging")]
    [InlineData("v1.2.0")]
    [InlineData("v2")]
    [InlineData("7")]
    [InlineData("Champion")]
    public async Task AliasesThatCouldBeConfusedWithOtherSelectorsAreRejected(string alias)
    {
        using var model = new ModelFolder(("m.bin", 10));
        await Server.Client.PushAsync(model.Root, "acme", "aliases-rule", new PushOptions(), cancellationToken: Ct);
        using var response = await Server.Http.SendJsonAsync(HttpMethod.Put, $"/api/v1/models/acme/aliases-rule/aliases/{alias}", """{"version":"1"}""", Ct);
        var code = alias is "7" ? "invalid_alias" : "invalid_alias";
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task AliasesRequestedAtPushAreValidatedBeforeAnythingIsCreated()
    {
        var model = "push-alias-" + Guid.NewGuid().ToString("N")[..8];
        var json = $$"""{"aliases":["latest"],"files":[{"path":"m.bin","size":0,"digest":"{{SomeDigest}}"}]}""";
        using var response = await Server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/acme/{model}/versions", json, Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_alias");
        await AssertNoVersionsAsync(model);
    }

    [Theory]
    [InlineData("{\"files\":[", "invalid_json")]
    [InlineData("not json at all", "invalid_json")]
    [InlineData("{\"files\":[],\"surprise\":1}", "unknown_field")]
    [InlineData("{\"files\":[{\"path\":\"a\",\"size\":1,\"digest\":\"" + SomeDigest + "\",\"sizee\":2}]}", "unknown_field")]
    [InlineData("{\"files\":[],\"files\":[]}", "invalid_json")]
    [InlineData("{\"files\":[{\"path\":\"a\",\"size\":\"big\",\"digest\":\"" + SomeDigest + "\"}]}", "invalid_json")]
    [InlineData("{\"files\":null}", "invalid_json")]
    [InlineData("{}", "invalid_json")]
    [InlineData("{\"files\":[],\"metrics\":{\"auc\":\"high\"}}", "invalid_json")]
    public async Task MalformedJsonIsA400NeverA500(string json, string code)
    {
        using var response = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/acme/json-tests/versions", json, Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task ABodyThatIsNotJsonIsUnsupportedMediaType()
    {
        using var content = new StringContent("{\"files\":[]}", Encoding.UTF8, "text/plain");
        using var response = await Server.Http.PostAsync("/api/v1/models/acme/json-tests/versions", content, Ct);
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task AMissingBodyIsA400()
    {
        using var response = await Server.Http.PostAsync("/api/v1/models/acme/json-tests/versions", null, Ct);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, response.StatusCode.ToString());
    }

    [Fact]
    public async Task OversizedJsonBodiesAreRejectedWith413()
    {
        var huge = "{\"files\":[],\"description\":\"" + new string('x', 33 * 1024 * 1024) + "\"}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/models/acme/json-tests/versions") { Content = Support.Http.Json(huge) };
        request.Headers.ExpectContinue = true;
        using var response = await Server.Http.SendAsync(request, Ct);
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "body_too_large");
    }

    [Theory]
    [InlineData("{\"version\":\"1.2\",\"files\":[" + OneFile + "]}", "invalid_version")]
    [InlineData("{\"version\":\"1.2.0+build\",\"files\":[" + OneFile + "]}", "invalid_version")]
    [InlineData("{\"files\":[" + OneFile + "],\"metrics\":{\"bad name!\":1}}", "invalid_metadata")]
    [InlineData("{\"files\":[" + OneFile + "],\"tags\":{\"k\":\"" + "\\u0001" + "\"}}", "invalid_metadata")]
    [InlineData("{\"files\":[" + OneFile + "],\"lineage\":{\"gitCommit\":\"not-a-commit\"}}", "invalid_metadata")]
    [InlineData("{\"files\":[" + OneFile + "],\"lineage\":{\"parents\":[\"acme/nope:1\"]}}", "model_not_found")]
    [InlineData("{\"files\":[]}", "empty_version")]
    [InlineData("{\"files\":[" + HugeFile + "," + HugeFile2 + "]}", "file_too_large")]
    [InlineData("{\"files\":[{\"path\":\"a\",\"size\":-1,\"digest\":\"" + SomeDigest + "\"}]}", "invalid_request")]
    [InlineData("{\"files\":[{\"path\":\"a\",\"size\":1,\"digest\":\"md5:abc\"}]}", "invalid_digest")]
    public async Task InvalidVersionMetadataIsRejected(string json, string code)
    {
        if (code == "model_not_found")
        {
            // The parent's namespace must exist for the answer to be about the model; whether another test
            // created it first depends on the order the tests run in.
            using var model = new ModelFolder(("m.bin", 10));
            await Server.Client.PushAsync(model.Root, "acme", "meta-parent", new PushOptions(), cancellationToken: Ct);
        }

        using var response = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/acme/meta-tests/versions", json, Ct);
        await response.AssertProblemAsync(code == "model_not_found" ? HttpStatusCode.NotFound : HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task ADuplicateSemanticVersionIsAConflict()
    {
        using var model = new ModelFolder(("m.bin", 10));
        await Server.Client.PushAsync(model.Root, "acme", "semver-dup", new PushOptions { Version = "2.0.0" }, cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<Berth.Client.BerthProblemException>(() =>
            Server.Client.PushAsync(model.Root, "acme", "semver-dup", new PushOptions { Version = "v2.0.0" }, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, error.Status);
        Assert.Equal("version_exists", error.Code);
    }

    [Fact]
    public async Task InvalidPaginationIsRejected()
    {
        await (await Server.Http.GetAsync("/api/v1/namespaces?limit=0", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await Server.Http.GetAsync("/api/v1/namespaces?limit=100000", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await Server.Http.GetAsync("/api/v1/namespaces?cursor=garbage", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_cursor");
    }

    private async Task AssertNoVersionsAsync(string model)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        Assert.False(await db.Versions.AnyAsync(v => v.Model.Name == model, Ct));
        Assert.False(await db.Models.AnyAsync(m => m.Name == model, Ct));
    }
}
