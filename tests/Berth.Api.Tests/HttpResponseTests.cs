using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// What every response says besides its body: problems whatever the client accepts, the headers that keep
/// browsers and caches from misusing an answer, the 401 challenge, how user files are served, and file paths in
/// URLs, encoded or not.
/// </summary>
// Engine-independent (headers, caching and error bodies of HTTP answers): run in scripts/test.sh's SQLite pass only (AssemblyTraits.cs).
[Trait("Database", "sqlite")]
public sealed class HttpResponseTests : IAsyncLifetime
{
    private const string Ns = "http";
    private TestServer _server = null!;
    private TestUser _reader = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Accepts =>
    [
        "application/octet-stream",
        "text/html",
        "image/png",
        "application/xml",
        "*/*;q=0",
        "garbage",
        "application/json;q=0, text/plain",
    ];

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await PushAsync(Ns, "files", ("w.bin", Bytes(100), null), ("sub/w.bin", Bytes(200), null), ("page.html", Encoding.UTF8.GetBytes("<script>alert(1)</script>"), "text/html"),
            ("logo.svg", Encoding.UTF8.GetBytes("<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"), "image/svg+xml"), ("100%.bin", Bytes(3), null),
            ("a b/ü ✓.bin", Bytes(5), null));
        _reader = await _server.AddUserAsync("http-reader", Ns, "reader");
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Accepts))]
    public async Task EveryErrorIsAProblemWithItsCodeWhateverTheRequestAccepts(string accept)
    {
        var files = $"/api/v1/models/{Ns}/files";
        var cases = new (HttpClient Http, HttpMethod Method, string Url, HttpContent? Body, HttpStatusCode Status, string Code)[]
        {
            (_server.Http, HttpMethod.Get, "/api/v1/models/Not_Valid/x", null, HttpStatusCode.BadRequest, "invalid_name"),
            (_server.Http, HttpMethod.Get, $"{files}/versions?limit=abc", null, HttpStatusCode.BadRequest, "invalid_request"),
            (_server.Anonymous, HttpMethod.Get, $"{files}/versions/1/files/w.bin", null, HttpStatusCode.Unauthorized, "token_missing"),
            (_server.Anonymous, HttpMethod.Get, $"{files}/versions/1/archive", null, HttpStatusCode.Unauthorized, "token_missing"),
            (_reader.Http, HttpMethod.Patch, files, Support.Http.Json("""{"description":"x"}"""), HttpStatusCode.Forbidden, "forbidden"),
            (_server.Http, HttpMethod.Get, $"{files}/versions/1/files/nope.bin", null, HttpStatusCode.NotFound, "file_not_found"),
            (_server.Http, HttpMethod.Get, "/api/v1/no-such-route", null, HttpStatusCode.NotFound, "not_found"),
            // Paths shaped like the web UI's pages (/{ns}/{model}, /{ns}/{model}/versions/{selector}) are still the API's.
            (_server.Http, HttpMethod.Get, "/api/v1", null, HttpStatusCode.NotFound, "not_found"),
            (_server.Http, HttpMethod.Get, "/api/v1/requests/..", null, HttpStatusCode.NotFound, "not_found"),
            (_server.Http, HttpMethod.Get, "/healthz/x/versions/1", null, HttpStatusCode.NotFound, "not_found"),
            (_server.Http, HttpMethod.Get, "/static/berth/x", null, HttpStatusCode.NotFound, "not_found"),
            (_server.Http, HttpMethod.Delete, "/api/v1/search", null, HttpStatusCode.MethodNotAllowed, "method_not_allowed"),
            (_server.Http, HttpMethod.Post, "/api/v1/namespaces", Support.Http.Json($$"""{"name":"{{Ns}}"}"""), HttpStatusCode.Conflict, "namespace_exists"),
            (_server.Http, HttpMethod.Post, $"{files}/versions", new StringContent("{}", Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"),
            (_server.Http, HttpMethod.Get, $"{files}/versions/1/files/w.bin", null, HttpStatusCode.RequestedRangeNotSatisfiable, "range_not_satisfiable"),
        };

        foreach (var (http, method, url, body, status, code) in cases)
        {
            using var request = new HttpRequestMessage(method, url) { Content = body };
            request.Headers.TryAddWithoutValidation("Accept", accept);
            if (status == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                request.Headers.Range = new RangeHeaderValue(1000, 2000);
            }

            using var response = await http.SendAsync(request, Ct);
            await AssertErrorAsync(response, status, code);
        }
    }

    [Theory]
    [InlineData("application/octet-stream")]
    [InlineData("text/html")]
    public async Task ABodyTooLargeIsAProblemWhateverTheRequestAccepts(string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/models/{Ns}/files/versions")
        {
            Content = Support.Http.Json("{\"files\":[],\"description\":\"" + new string('x', 33 * 1024 * 1024) + "\"}"),
        };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        request.Headers.ExpectContinue = true;
        using var response = await _server.Http.SendAsync(request, Ct);
        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "body_too_large");
    }

    [Theory]
    [InlineData("application/octet-stream")]
    [InlineData("*/*;q=0")]
    public async Task AServerFailureIsAProblemWhateverTheRequestAccepts(string accept)
    {
        // A blob store that fails to open any blob: the exception handler's last resort, 500 internal_error.
        await using var server = await TestServer.StartAsync(services => services.AddSingleton<IBlobStore>(sp =>
            FailingReads.Wrap(ActivatorUtilities.CreateInstance<FileSystemBlobStore>(sp))));
        var bytes = Bytes(10);
        using (var push = await server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/boom/m/versions", Support.Http.CreateVersionJson(Digest.Compute(bytes).ToString(), bytes.Length), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        }

        using (var content = new ByteArrayContent(bytes))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var upload = await server.Http.PostAsync($"/api/v1/models/boom/m/uploads?digest={Digest.Compute(bytes)}&size={bytes.Length}", content, Ct);
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }

        using (var commit = await server.Http.PostAsync("/api/v1/models/boom/m/versions/1/commit", null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, commit.StatusCode);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models/boom/m/versions/1/files/model.bin");
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await server.Http.SendAsync(request, Ct);
        await AssertErrorAsync(response, HttpStatusCode.InternalServerError, "internal_error");
    }

    [Fact]
    public async Task EveryResponseForbidsSniffingAndAuthenticatedOnesAreNeverStored()
    {
        var files = $"/api/v1/models/{Ns}/files/versions/1";
        foreach (var (http, url) in new[] { (_server.Http, $"{files}?files=true"), (_reader.Http, $"{files}/files/w.bin"), (_reader.Http, $"{files}/manifest"), (_reader.Http, $"{files}/archive"), (_server.Http, "/api/v1/whoami") })
        {
            using var response = await http.GetAsync(url, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.True(response.Headers.CacheControl?.NoStore == true, $"{url}: Cache-Control {response.Headers.CacheControl}");
        }

        // A bad token is a request with credentials too.
        using var bad = _server.NewHttp("berth_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        using (var refused = await bad.GetAsync("/api/v1/whoami", Ct))
        {
            Assert.True(refused.Headers.CacheControl?.NoStore == true);
            Assert.Equal("nosniff", Header(refused, "X-Content-Type-Options"));
        }

        // Anonymous reads of public things may be cached, but only revalidated.
        foreach (var url in new[] { "/healthz", "/api/v1/openapi.json" })
        {
            using var open = await _server.Anonymous.GetAsync(url, Ct);
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
            Assert.Equal("nosniff", Header(open, "X-Content-Type-Options"));
            Assert.True(open.Headers.CacheControl is { NoCache: true, NoStore: false }, $"{url}: Cache-Control {open.Headers.CacheControl}");
        }
    }

    [Fact]
    public async Task Every401ChallengesForABearerTokenAndSaysWhatWasWrongWithTheOnePresented()
    {
        using (var missing = await _server.Anonymous.GetAsync("/api/v1/whoami", Ct))
        {
            await missing.AssertProblemAsync(HttpStatusCode.Unauthorized, "token_missing");
            Assert.Equal("Bearer realm=\"berth\"", Assert.Single(missing.Headers.WwwAuthenticate).ToString());
        }

        foreach (var (header, code) in new[] { ("Bearer berth_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "token_invalid"), ("Bearer not-a-token", "token_malformed"), ("Basic YWRtaW46YWRtaW4=", "token_malformed") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/whoami");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await _server.Anonymous.SendAsync(request, Ct);
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized, code);
            var challenge = Assert.Single(response.Headers.WwwAuthenticate);
            Assert.Equal("Bearer", challenge.Scheme);
            Assert.StartsWith("realm=\"berth\", error=\"invalid_token\", error_description=\"", challenge.Parameter, StringComparison.Ordinal);
            Assert.DoesNotContain(header.Split(' ')[1], challenge.Parameter, StringComparison.Ordinal);
        }

        // A wrong password at sign-in is a 401 too.
        using var signIn = await _server.Anonymous.SendJsonAsync(HttpMethod.Post, "/api/v1/sessions", """{"user":"admin","password":"wrong-password"}""", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        Assert.Equal("Bearer realm=\"berth\"", Assert.Single(signIn.Headers.WwwAuthenticate).ToString());
    }

    [Theory]
    [InlineData("page.html", "text/html")]
    [InlineData("logo.svg", "image/svg+xml")]
    [InlineData("w.bin", null)]
    public async Task FilesAreServedAsAttachmentsThatNoBrowserRendersWithTheirMediaTypeOnlyAsInformation(string path, string? mediaType)
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var request = new HttpRequestMessage(method, $"/api/v1/models/{Ns}/files/versions/1/files/{path}");
            using var response = await _reader.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
            var disposition = response.Content.Headers.ContentDisposition!;
            Assert.Equal("attachment", disposition.DispositionType);
            Assert.Equal(path, disposition.FileNameStar);
            Assert.Contains("sandbox", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal(mediaType, response.Headers.TryGetValues("Berth-Media-Type", out var values) ? values.Single() : null);
            Assert.NotNull(response.Headers.ETag);
            Assert.Equal("bytes", Assert.Single(response.Headers.AcceptRanges));
            Assert.StartsWith("sha256:", Header(response, "Berth-Digest"), StringComparison.Ordinal);
            Assert.StartsWith("sha-256=:", Header(response, "Repr-Digest"), StringComparison.Ordinal);
        }

        // The declared media type stays visible where it is information: the version's files and its manifest.
        var listed = JsonDocument.Parse(await _reader.Http.GetStringAsync($"/api/v1/models/{Ns}/files/versions/1?files=true", Ct));
        var entry = listed.RootElement.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == path);
        Assert.Equal(mediaType, entry.TryGetProperty("mediaType", out var declared) ? declared.GetString() : null);
        if (mediaType is not null)
        {
            using var manifest = JsonDocument.Parse(await _reader.Http.GetStringAsync($"/api/v1/models/{Ns}/files/versions/1/manifest", Ct));
            var listedInManifest = manifest.RootElement.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == path);
            Assert.Equal(mediaType, listedInManifest.GetProperty("mediaType").GetString());
        }

        // Ranges and validators still work.
        using var range = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/models/{Ns}/files/versions/1/files/{path}");
        range.Headers.Range = new RangeHeaderValue(1, 2);
        using var partial = await _reader.Http.SendAsync(range, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(2, (await partial.Content.ReadAsByteArrayAsync(Ct)).Length);
        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/models/{Ns}/files/versions/1/files/{path}");
        conditional.Headers.IfNoneMatch.Add(partial.Headers.ETag!);
        using var notModified = await _reader.Http.SendAsync(conditional, Ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task ArchivesAreServedAsAttachmentsToo()
    {
        using var response = await _reader.Http.GetAsync($"/api/v1/models/{Ns}/files/versions/1/archive", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("files-1.tar", response.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal("application/x-tar", Header(response, "Berth-Media-Type"));
        Assert.Contains("sandbox", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sub/w.bin", "sub/w.bin")]
    [InlineData("sub%2Fw.bin", "sub/w.bin")]
    [InlineData("sub%2fw.bin", "sub/w.bin")]
    [InlineData("100%25.bin", "100%.bin")]
    [InlineData("a%20b/%C3%BC%20%E2%9C%93.bin", "a b/ü ✓.bin")]
    [InlineData("a%20b%2F%C3%BC%20%E2%9C%93.bin", "a b/ü ✓.bin")]
    public async Task FilePathsInUrlsWorkEncodedAndUnencoded(string inUrl, string path)
    {
        using var response = await _reader.Http.GetAsync($"/api/v1/models/{Ns}/files/versions/1/files/{inUrl}", Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{inUrl}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        var file = await FileAsync(path);
        Assert.Equal(file.GetProperty("digest").GetString(), Header(response, "Berth-Digest"));
        Assert.Equal(path[(path.LastIndexOf('/') + 1)..], response.Content.Headers.ContentDisposition?.FileNameStar);
    }

    [Theory]
    [InlineData("..%2F..%2F..%2Fw.bin")]
    [InlineData("sub%2F..%2Fw.bin")]
    [InlineData("sub%5C..%5Cw.bin")]
    [InlineData("sub%5Cw.bin")]
    [InlineData("%2Fsub%2Fw.bin")]
    [InlineData("sub%2F%2Fw.bin")]
    public async Task EncodedTraversalIsStillRefused(string inUrl)
    {
        using var response = await _reader.Http.GetAsync($"/api/v1/models/{Ns}/files/versions/1/files/{inUrl}", Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_path");
    }

    [Theory]
    [InlineData("%2e%2e/%2e%2e/w.bin")]
    [InlineData("sub/%2e%2e/%2e%2e/%2e%2e/x")]
    public async Task DotSegmentsNeverLeaveTheVersion(string inUrl)
    {
        // The server removes dot segments before routing: what remains is not a file of this version.
        using var response = await _reader.Http.GetAsync($"/api/v1/models/{Ns}/files/versions/1/files/{inUrl}", Ct);
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{inUrl}: {(int)response.StatusCode}");
        Assert.Null(response.Content.Headers.ContentDisposition);
    }

    [Fact]
    public async Task InventedMethodsAndPathsCannotMultiplyTheMetricsSeries()
    {
        for (var i = 0; i < 40; i++)
        {
            using var method = new HttpRequestMessage(new HttpMethod($"INVENTED{i}"), i % 2 == 0 ? "/api/v1/search" : $"/nowhere-{i}");
            using var answer = await _server.Anonymous.SendAsync(method, Ct);
            Assert.True((int)answer.StatusCode is 404 or 405, $"{answer.StatusCode}");
            using var path = await _server.Anonymous.GetAsync($"/api/v1/made-up-path-{i}/x", Ct);
            Assert.Equal(HttpStatusCode.NotFound, path.StatusCode);
            // Outside the API, the web UI answers every path (here: sign in first); its route patterns bound the label too.
            using var page = await _server.Anonymous.GetAsync($"/made-up-path-{i}/x/y", Ct);
        }

        var metrics = await _server.Anonymous.GetStringAsync("/metrics", Ct);
        Assert.DoesNotContain("INVENTED", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("nowhere-", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("made-up-path", metrics, StringComparison.Ordinal);
        Assert.Contains("method=\"OTHER\"", metrics, StringComparison.Ordinal);
        var methods = metrics.Split('\n').Where(l => l.StartsWith("http_requests_received_total{", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf("method=\"", StringComparison.Ordinal) + 8)..].Split('"')[0]).ToHashSet(StringComparer.Ordinal);
        Assert.Subset(new HashSet<string>(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"], StringComparer.Ordinal), methods);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        await response.AssertProblemAsync(status, code);
        Assert.True(response.Headers.CacheControl?.NoStore == true, $"{code}: Cache-Control {response.Headers.CacheControl}");
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        if (status == HttpStatusCode.Unauthorized)
        {
            Assert.NotEmpty(response.Headers.WwwAuthenticate);
        }
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : throw new Xunit.Sdk.XunitException($"No {name} header in the {(int)response.StatusCode} response.");

    private async Task<JsonElement> FileAsync(string path)
    {
        using var version = JsonDocument.Parse(await _server.Http.GetStringAsync($"/api/v1/models/{Ns}/files/versions/1?files=true", Ct));
        return version.RootElement.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == path).Clone();
    }

    private static byte[] Bytes(int count) => RandomNumberGenerator.GetBytes(count);

    /// <summary>Declares a version with files of given bytes and media types, uploads them and commits it.</summary>
    private async Task PushAsync(string ns, string model, params (string Path, byte[] Bytes, string? MediaType)[] files)
    {
        var declared = files.Select(f => new Dictionary<string, object?>
        {
            ["path"] = f.Path,
            ["size"] = f.Bytes.Length,
            ["digest"] = Digest.Compute(f.Bytes).ToString(),
            ["mediaType"] = f.MediaType,
        });
        using var create = await _server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/{ns}/{model}/versions", JsonSerializer.Serialize(new { files = declared }), Ct);
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var number = JsonDocument.Parse(await create.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("version").GetProperty("number").GetInt32();
        foreach (var (_, bytes, _) in files)
        {
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var upload = await _server.Http.PostAsync($"/api/v1/models/{ns}/{model}/uploads?digest={Digest.Compute(bytes)}&size={bytes.Length}", content, Ct);
            Assert.True(upload.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await upload.Content.ReadAsStringAsync(Ct));
        }

        using var commit = await _server.Http.PostAsync($"/api/v1/models/{ns}/{model}/versions/{number}/commit", null, Ct);
        Assert.Equal(HttpStatusCode.OK, commit.StatusCode);
    }

    /// <summary>A blob store whose reads fail with an exception the server does not expect.</summary>
    public class FailingReads : DispatchProxy
    {
        private IBlobStore _inner = null!;

        public static IBlobStore Wrap(IBlobStore inner)
        {
            var proxy = Create<IBlobStore, FailingReads>();
            ((FailingReads)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IBlobStore.OpenReadAsync))
            {
                throw new InvalidOperationException("Simulated failure of the blob store.");
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }
    }
}
