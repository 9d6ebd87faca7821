using System.Net;
using Berth.Api.Tests.Support;

namespace Berth.Api.Tests;

/// <summary>
/// Errors about malformed requests speak the API's language (JSON types at JSON paths, parameters by name) and never
/// name the server's .NET types.
/// </summary>
public sealed class RequestErrorTextTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    private const string Versions = "/api/v1/models/acme/error-text/versions";
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(Versions, """{"files":[],"metrics":{"auc":"high"}}""", "invalid_json", "expected a number at $.metrics.auc")]
    [InlineData(Versions, """{"files":[],"metrics":{"auc":1e400}}""", "invalid_metadata", "auc")]
    [InlineData(Versions, """{"files":[{"path":"a","size":"big","digest":"D"}]}""", "invalid_json", "expected a whole number (within range) at $.files[0].size")]
    [InlineData(Versions, """{"files":[{"path":"a","size":99999999999999999999,"digest":"D"}]}""", "invalid_json", "expected a whole number (within range) at $.files[0].size")]
    [InlineData(Versions, """{"files":{}}""", "invalid_json", "expected an array at $.files")]
    [InlineData(Versions, """{"files":"model.bin"}""", "invalid_json", "expected an array at $.files")]
    [InlineData(Versions, """{"files":[3]}""", "invalid_json", "expected an object at $.files[0]")]
    [InlineData(Versions, """{"files":[],"description":5}""", "invalid_json", "expected a string at $.description")]
    [InlineData(Versions, """{"files":[],"tags":[1]}""", "invalid_json", "expected an object at $.tags")]
    [InlineData(Versions, """{"files":[],"lineage":"main"}""", "invalid_json", "expected an object at $.lineage")]
    [InlineData(Versions, """{"files":[],"lineage":{"parents":"acme/x:1"}}""", "invalid_json", "expected an array at $.lineage.parents")]
    [InlineData(Versions, """{"files":[],"version":1.2}""", "invalid_json", "expected a string at $.version")]
    [InlineData(Versions, """{}""", "invalid_json", "missing required field 'files' at $")]
    [InlineData(Versions, """{"files":null}""", "invalid_json", "'files' may not be null at $")]
    [InlineData(Versions, """{"files":[],"files":[]}""", "invalid_json", "duplicate field 'files' at $")]
    [InlineData(Versions, """{"files":[],"surprise":1}""", "unknown_field", "unknown field 'surprise' at $")]
    [InlineData(Versions, """{"files":[""", "invalid_json", "$.files")]
    [InlineData("/api/v1/tokens", """{"name":"t","scopes":"read"}""", "invalid_json", "expected an array at $.scopes")]
    [InlineData("/api/v1/tokens", """{"name":"t","expiresInDays":"soon"}""", "invalid_json", "expected a whole number (within range) at $.expiresInDays")]
    [InlineData("/api/v1/namespaces", """{"name":["acme"]}""", "invalid_json", "expected a string at $.name")]
    public async Task WrongJsonTypesAreDescribedInJsonTermsAtTheirPath(string url, string json, string code, string expected)
    {
        using var response = await Server.Http.SendJsonAsync(HttpMethod.Post, url, json.Replace("\"D\"", $"\"{Digest}\"", StringComparison.Ordinal), Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains(expected, detail, StringComparison.Ordinal);
        AssertNoTypeNames(detail);
    }

    [Theory]
    [InlineData("/api/v1/namespaces?limit=abc", "'limit' must be a whole number, not 'abc'.")]
    [InlineData("/api/v1/namespaces?limit=99999999999", "'limit' must be a whole number, not '99999999999'.")]
    [InlineData("/api/v1/tokens?all=maybe", "'all' must be true or false, not 'maybe'.")]
    [InlineData("/api/v1/audit?since=yesterday", "'since' must be a date and time such as 2026-03-01T12:00:00Z, not 'yesterday'.")]
    [InlineData("/api/v1/events?since=abc", "'since' must be a whole number, not 'abc'.")]
    [InlineData("/api/v1/models/acme/error-text/history/holders?at=noon&stage=production", "'at' must be a date and time such as 2026-03-01T12:00:00Z, not 'noon'.")]
    public async Task WrongQueryValuesAreDescribedByParameterName(string url, string expected)
    {
        using var response = await Server.Http.GetAsync(url, Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Equal(expected, detail);
        AssertNoTypeNames(detail);
    }

    [Fact]
    public async Task WrongTypesInOtherBodiesNameNoTypesEither()
    {
        await Server.PushSmallAsync("acme", "error-text-bodies");
        var cases = new (HttpMethod Method, string Url, string Json)[]
        {
            (HttpMethod.Put, "/api/v1/models/acme/error-text-bodies/versions/1/stage", """{"stage":5}"""),
            (HttpMethod.Patch, "/api/v1/models/acme/error-text-bodies/versions/1", """{"tags":"a=b"}"""),
            (HttpMethod.Patch, "/api/v1/models/acme/error-text-bodies", """{"description":{"text":"x"}}"""),
            (HttpMethod.Put, "/api/v1/models/acme/error-text-bodies/aliases/champion", """{"version":1}"""),
            (HttpMethod.Put, "/api/v1/namespaces/acme/members", """{"role":1,"user":"x"}"""),
            (HttpMethod.Put, "/api/v1/namespaces/acme/policy/stages/production", """{"requiredApprovals":"two"}"""),
            (HttpMethod.Put, "/api/v1/namespaces/acme/retention", """{"keepLast":"all"}"""),
            (HttpMethod.Post, "/api/v1/users", """{"name":"u","admin":"yes"}"""),
            (HttpMethod.Post, "/api/v1/blobs/check", """{"digests":"sha256:00"}"""),
            (HttpMethod.Post, "/api/v1/sessions", """{"user":1,"password":2}"""),
        };

        foreach (var (method, url, json) in cases)
        {
            using var response = await Server.Http.SendJsonAsync(method, url, json, Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {url}: {(int)response.StatusCode} {body}");
            AssertNoTypeNames(body);
        }
    }

    private static void AssertNoTypeNames(string text)
    {
        foreach (var internalName in new[] { "System.", "Berth.", "Microsoft.", "Int64", "Int32", "Double", "IReadOnly", "`1" })
        {
            Assert.False(text.Contains(internalName, StringComparison.Ordinal), $"'{internalName}' in: {text}");
        }
    }
}
