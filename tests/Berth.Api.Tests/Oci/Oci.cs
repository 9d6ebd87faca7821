using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Berth.Api.Tests.Support;

namespace Berth.Api.Tests.Oci;

/// <summary>Helpers to speak the OCI distribution API to a test server as a registry client does.</summary>
internal static class Oci
{
    public const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    public const string IndexType = "application/vnd.oci.image.index.v1+json";
    public const string ModelManifestType = "application/vnd.cncf.model.manifest.v1+json";
    public const string ModelConfigType = "application/vnd.cncf.model.config.v1+json";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An HTTP client that logs in with Basic (user + API token), as <c>skopeo login</c> does.</summary>
    public static HttpClient Basic(TestServer server, string user, string token)
    {
        var http = server.NewHttp(null);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{token}")));
        return http;
    }

    /// <summary>The bearer-token flow: GET /v2/token with Basic credentials (or none) for <paramref name="scope"/>.</summary>
    public static async Task<string> TokenAsync(TestServer server, string? user, string? secret, string scope)
    {
        using var http = user is null ? server.NewHttp(null) : Basic(server, user, secret!);
        using var response = await http.GetAsync($"/v2/token?service={server.Address.Authority}&scope={Uri.EscapeDataString(scope)}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.True(json.RootElement.GetProperty("expires_in").GetInt32() > 0);
        return json.RootElement.GetProperty("token").GetString()!;
    }

    public static HttpClient Bearer(TestServer server, string token)
    {
        var http = server.NewHttp(null);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>Asserts an error answer in the spec's envelope with <paramref name="code"/>; returns its message.</summary>
    public static async Task<string> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == response.StatusCode, $"Expected {status} {code}, got {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        var error = json.RootElement.GetProperty("errors")[0];
        Assert.Equal(code, error.GetProperty("code").GetString());
        return error.GetProperty("message").GetString()!;
    }

    public static string Digest(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Uploads a blob with POST + PUT (the monolithic two-request form) and returns its digest.</summary>
    public static async Task<string> PushBlobAsync(HttpClient http, string repository, byte[] bytes)
    {
        var digest = Digest(bytes);
        using var start = await http.PostAsync($"/v2/{repository}/blobs/uploads/", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!.ToString();
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await http.PutAsync($"{location}{(location.Contains('?', StringComparison.Ordinal) ? '&' : '?')}digest={digest}", content, Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(digest, put.Headers.GetValues("Docker-Content-Digest").Single());
        return digest;
    }

    public static async Task<HttpResponseMessage> PutManifestAsync(HttpClient http, string repository, string reference, byte[] manifest, string mediaType = ManifestType)
    {
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return await http.PutAsync($"/v2/{repository}/manifests/{reference}", content, Ct);
    }

    public static async Task<(byte[] Body, string Digest, string ContentType)> GetManifestAsync(HttpClient http, string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd($"{ManifestType}, {IndexType}");
        using var response = await http.SendAsync(request, Ct);
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET manifest {repository}:{reference}: {(int)response.StatusCode} {Encoding.UTF8.GetString(body)}");
        var digest = response.Headers.GetValues("Docker-Content-Digest").Single();
        Assert.Equal(Digest(body), digest);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        return (body, digest, response.Content.Headers.ContentType!.MediaType!);
    }

    /// <summary>A ModelPack manifest over blobs already pushed: config, then one raw weight layer per (path, digest, size).</summary>
    public static byte[] ModelPack(string configDigest, int configSize, IEnumerable<(string Path, string Digest, int Size)> layers, string? subject = null)
    {
        var layerJson = string.Join(",", layers.Select(l =>
            "{\"mediaType\":\"application/vnd.cncf.model.weight.v1.raw\",\"digest\":\"" + l.Digest + "\",\"size\":" + l.Size + ",\"annotations\":{\"org.cncf.model.filepath\":\"" + l.Path + "\"}}"));
        return Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{ManifestType}}","artifactType":"{{ModelManifestType}}","config":{"mediaType":"{{ModelConfigType}}","digest":"{{configDigest}}","size":{{configSize}}},"layers":[{{layerJson}}]}""");
    }

    /// <summary>A plain image manifest (not a model) over a config and layers already pushed, optionally with a subject.</summary>
    public static byte[] Image(string configDigest, int configSize, IEnumerable<(string Digest, int Size)> layers, string? subjectDigest = null, int subjectSize = 0, string? artifactType = null, string configType = "application/vnd.oci.image.config.v1+json")
    {
        var layerJson = string.Join(",", layers.Select(l => $$"""{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{l.Digest}}","size":{{l.Size}}}"""));
        var subject = subjectDigest is null ? "" : $$""","subject":{"mediaType":"{{ManifestType}}","digest":"{{subjectDigest}}","size":{{subjectSize}}}""";
        var type = artifactType is null ? "" : $$""","artifactType":"{{artifactType}}" """.TrimEnd();
        return Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{ManifestType}}"{{type}},"config":{"mediaType":"{{configType}}","digest":"{{configDigest}}","size":{{configSize}}},"layers":[{{layerJson}}]{{subject}},"annotations":{"org.example.note":"test"}""" + "}");
    }
}
