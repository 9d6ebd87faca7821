using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// Every endpoint of the server, called by every kind of caller: anonymous, a signed-in user without a
/// role (the admin of another namespace), each namespace role, a server administrator, and read-scoped tokens of a
/// namespace admin and of a server administrator. Callers below an endpoint's level are refused before anything
/// happens: 401 anonymous; 404 for a signed-in user who may not see the namespace (the same answer as for a namespace
/// that does not exist, so refusals reveal nothing); 403 for the others, and for a read-scoped token on every call
/// that changes something. Callers at or above it get past authorization. Targets are objects that do not exist (a
/// model 'ghost', user 'nobody') so allowed calls change nothing; request endpoints get a fresh open request each
/// time. A new endpoint fails the test until it is classified here, and every endpoint must be in the OpenAPI
/// document (<see cref="EveryEndpointIsInTheOpenApiDocument"/>), so the matrix covers the document's operations.
/// </summary>
// Engine-independent (who may call what, decided before any query): run in scripts/test.sh's SQLite pass only (AssemblyTraits.cs).
[Trait("Database", "sqlite")]
public sealed partial class AuthorizationMatrixTests : IAsyncLifetime
{
    private const string Ns = "matrix";

    public enum Level
    {
        Open,
        SignedIn,
        Reader,
        Writer,
        Approver,
        Admin,
        ServerAdmin,
    }

    private static readonly Dictionary<string, Level> Expected = new(StringComparer.Ordinal)
    {
        ["GET /healthz"] = Level.Open,
        ["GET /readyz"] = Level.Open,
        ["GET /metrics"] = Level.Open,
        ["GET /api/{documentName}/openapi.json"] = Level.Open,
        ["GET /api/docs/scalar.js"] = Level.Open,
        ["GET /api/docs/scalar.aspnetcore.js"] = Level.Open,
        ["GET /api/docs/favicon.svg"] = Level.Open,
        ["GET /api/docs/{documentName?}"] = Level.Open,
        ["SignIn"] = Level.Open,

        ["WhoAmI"] = Level.SignedIn,
        ["ChangePassword"] = Level.SignedIn,
        ["ListTokens"] = Level.SignedIn,
        ["CreateToken"] = Level.SignedIn,
        ["RevokeToken"] = Level.SignedIn,
        ["ListNamespaces"] = Level.SignedIn,
        ["CreateNamespace"] = Level.SignedIn,
        ["SearchVersions"] = Level.SignedIn,
        ["ListRequests"] = Level.SignedIn,
        ["CheckBlobs"] = Level.SignedIn,
        ["ListEvents"] = Level.SignedIn,
        ["StreamEvents"] = Level.SignedIn,

        ["GetNamespace"] = Level.Reader,
        ["ListModels"] = Level.Reader,
        ["GetModel"] = Level.Reader,
        ["ListAliases"] = Level.Reader,
        ["GetAlias"] = Level.Reader,
        ["GetHistory"] = Level.Reader,
        ["GetHolders"] = Level.Reader,
        ["ListMembers"] = Level.Reader,
        ["GetNamespacePolicy"] = Level.Reader,
        ["GetModelPolicy"] = Level.Reader,
        ["ListProtectedAliases"] = Level.Reader,
        ["GetRequest"] = Level.Reader,
        ["ListVersions"] = Level.Reader,
        ["ListRuns"] = Level.Reader,
        ["CompareRuns"] = Level.Reader,
        ["GetRun"] = Level.Reader,
        ["ReadMetric"] = Level.Reader,
        ["ReadMetricPoints"] = Level.Reader,
        ["ListRunFiles"] = Level.Reader,
        ["DownloadRunFile"] = Level.Reader,
        ["GetVersion"] = Level.Reader,
        ["ListEvaluations"] = Level.Reader,
        ["GetManifest"] = Level.Reader,
        ["ListFiles"] = Level.Reader,
        ["DownloadFile"] = Level.Reader,
        ["DownloadArchive"] = Level.Reader,
        ["ListDeployments"] = Level.Reader,
        ["GetNamespaceRetention"] = Level.Reader,
        ["PreviewNamespaceRetention"] = Level.Reader,
        ["GetModelRetention"] = Level.Reader,
        ["PreviewModelRetention"] = Level.Reader,
        ["GetNamespaceQuota"] = Level.Reader,
        ["GetVersionInsight"] = Level.Reader,
        ["GetScanPolicy"] = Level.Reader,

        ["CreateModel"] = Level.Writer,
        ["UpdateModel"] = Level.Writer,
        ["SetAlias"] = Level.Writer,
        ["RemoveAlias"] = Level.Writer,
        ["StartUpload"] = Level.Writer,
        ["GetUpload"] = Level.Writer,
        ["AppendUpload"] = Level.Writer,
        ["FinishUpload"] = Level.Writer,
        ["PlanDirectUpload"] = Level.Writer,
        ["CancelUpload"] = Level.Writer,
        ["CreateVersion"] = Level.Writer,
        ["UpdateVersion"] = Level.Writer,
        ["CommitVersion"] = Level.Writer,
        ["ChangeStage"] = Level.Writer,
        ["RecordDeployment"] = Level.Writer,
        ["CreateRun"] = Level.Writer,
        ["UpdateRun"] = Level.Writer,
        ["RunHeartbeat"] = Level.Writer,
        ["FinishRun"] = Level.Writer,
        ["LogMetrics"] = Level.Writer,
        ["AttachRunFiles"] = Level.Writer,
        ["RegisterRun"] = Level.Writer,
        ["EvaluateVersion"] = Level.Writer,

        ["ApproveRequest"] = Level.Approver,
        ["RejectRequest"] = Level.Approver,

        ["CancelRequest"] = Level.Admin,
        ["DeleteVersion"] = Level.Admin,
        ["DeleteRun"] = Level.Admin,
        ["DeleteModel"] = Level.Admin,
        ["DeleteNamespace"] = Level.Admin,
        ["SetNamespaceRetention"] = Level.Admin,
        ["RemoveNamespaceRetention"] = Level.Admin,
        ["SetModelRetention"] = Level.Admin,
        ["RemoveModelRetention"] = Level.Admin,
        ["SetMember"] = Level.Admin,
        ["RemoveNamespaceUser"] = Level.Admin,
        ["RemoveNamespaceTeam"] = Level.Admin,
        ["SetNamespaceStage"] = Level.Admin,
        ["RemoveNamespaceStage"] = Level.Admin,
        ["SetModelStage"] = Level.Admin,
        ["RemoveModelStage"] = Level.Admin,
        ["ResetModelPolicy"] = Level.Admin,
        ["ProtectAlias"] = Level.Admin,
        ["UnprotectAlias"] = Level.Admin,
        ["ListWebhooks"] = Level.Admin,
        ["CreateWebhook"] = Level.Admin,
        ["GetWebhook"] = Level.Admin,
        ["UpdateWebhook"] = Level.Admin,
        ["DeleteWebhook"] = Level.Admin,
        ["TestWebhook"] = Level.Admin,
        ["ListDeliveries"] = Level.Admin,
        ["GetDelivery"] = Level.Admin,
        ["Redeliver"] = Level.Admin,
        ["SetScanPolicy"] = Level.Admin,

        ["ListUsers"] = Level.ServerAdmin,
        ["CreateUser"] = Level.ServerAdmin,
        ["GetUser"] = Level.ServerAdmin,
        ["UpdateUser"] = Level.ServerAdmin,
        ["ResetPassword"] = Level.ServerAdmin,
        ["ListTeams"] = Level.ServerAdmin,
        ["CreateTeam"] = Level.ServerAdmin,
        ["GetTeam"] = Level.ServerAdmin,
        ["DeleteTeam"] = Level.ServerAdmin,
        ["AddTeamMember"] = Level.ServerAdmin,
        ["RemoveTeamMember"] = Level.ServerAdmin,
        ["ListAudit"] = Level.ServerAdmin,
        ["ExportAudit"] = Level.ServerAdmin,
        ["VerifyAudit"] = Level.ServerAdmin,
        ["RunGc"] = Level.ServerAdmin,
        ["RunFsck"] = Level.ServerAdmin,
        ["SetNamespaceQuota"] = Level.ServerAdmin,
        ["RecomputeInsight"] = Level.ServerAdmin,
    };

    /// <summary>
    /// What a read-scoped token may still do besides reading (GET, HEAD): sign in, and manage tokens, since a token may
    /// create weaker ones and revoke its own (docs/governance.md, token chains). Everything else changes something and
    /// needs the write scope, and so does what only writers may read (an upload's state); administration, of a
    /// namespace or of the server, needs the admin scope even to read.
    /// </summary>
    private static readonly HashSet<string> AllowedToReadScopedTokens = new(StringComparer.Ordinal) { "SignIn", "CreateToken", "RevokeToken" };

    /// <summary>Routes deliberately left out of the OpenAPI document, with the reason.</summary>
    private static readonly Dictionary<string, string> Undocumented = new(StringComparer.Ordinal)
    {
        ["GET /healthz"] = "a liveness probe for orchestrators, not part of the API",
        ["GET /readyz"] = "a readiness probe for orchestrators, not part of the API",
        ["GET /metrics"] = "Prometheus' text format for scrapers, not part of the API",
        ["GET /api/{documentName}/openapi.json"] = "the OpenAPI document itself",
        ["GET /api/docs/scalar.js"] = "an asset of the browsable API reference",
        ["GET /api/docs/scalar.aspnetcore.js"] = "an asset of the browsable API reference",
        ["GET /api/docs/favicon.svg"] = "an asset of the browsable API reference",
        ["GET /api/docs/{documentName?}"] = "the browsable API reference (a web page)",
    };

    private TestServer _server = null!;
    private TestUser _requester = null!;
    private readonly List<(Level Level, HttpClient Http, string Who)> _callers = [];
    private readonly List<(HttpClient Http, string Who)> _readScoped = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // Webhooks of the matrix call 127.0.0.1, which only an operator's allow-list opens.
        _server = await TestServer.StartAsync("--Webhooks:AllowedNetworks:0=127.0.0.1/32");
        await _server.CreateNamespaceAsync(Ns);
        await _server.CreateNamespaceAsync("elsewhere");
        using var folder = new ModelFolder(("f.bin", 32));
        await _server.Client.PushAsync(folder.Root, Ns, "m", new PushOptions(), cancellationToken: Ct);
        await _server.Client.SetStageRuleAsync(Ns, null, "production", new SetStageRuleRequest(RequiredApprovals: 5), Ct);
        _requester = await _server.AddUserAsync("requester", Ns, Roles.Writer);

        var outsider = await _server.AddUserAsync("outsider", "elsewhere", Roles.Admin);
        _callers.Add((Level.Open, _server.Anonymous, "anonymous"));
        _callers.Add((Level.SignedIn, outsider.Http, "a user without a role (admin of another namespace)"));
        foreach (var (level, role) in new[] { (Level.Reader, Roles.Reader), (Level.Writer, Roles.Writer), (Level.Approver, Roles.Approver), (Level.Admin, Roles.Admin) })
        {
            _callers.Add((level, (await _server.AddUserAsync(role + "-user", Ns, role)).Http, role));
        }

        _callers.Add((Level.ServerAdmin, _server.Http, "the server administrator"));

        var scopedAdmin = await _server.AddUserAsync("read-scoped-admin", Ns, Roles.Admin, scopes: ["read"]);
        _readScoped.Add((scopedAdmin.Http, "a namespace admin's read-scoped token"));
        _readScoped.Add((_server.NewHttp((await _server.Client.CreateTokenAsync(new CreateTokenRequest("read-only", ["read"]), Ct)).Token), "a server administrator's read-scoped token"));
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public void EveryEndpointIsClassified()
    {
        var names = Endpoints().Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var unclassified = names.Where(n => !Expected.ContainsKey(n)).ToList();
        var stale = Expected.Keys.Where(n => !names.Contains(n)).ToList();
        Assert.True(unclassified.Count == 0, "Unclassified endpoints: " + string.Join(", ", unclassified));
        Assert.True(stale.Count == 0, "Classified but not served: " + string.Join(", ", stale));
    }

    [Fact]
    public async Task EveryEndpointRefusesCallersBelowItsLevelAndLetsTheOthersThrough()
    {
        var wrong = new List<string>();
        foreach (var endpoint in Endpoints().Where(e => Expected.ContainsKey(e.Name)))
        {
            var level = Expected[endpoint.Name];
            foreach (var (callerLevel, http, who) in _callers)
            {
                var url = await UrlAsync(endpoint.Pattern);
                using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), url);
                if (endpoint.Method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }

                // Headers first: an allowed call to the event stream never ends by itself.
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
                var status = (int)response.StatusCode;
                var allowed = callerLevel >= level;
                var code = await CodeAsync(response);
                if (allowed && status is 401 or 403)
                {
                    wrong.Add($"{endpoint.Name} ({endpoint.Method} {url}) refused {who}: {status} {code}");
                }
                else if (!allowed)
                {
                    var (expectedStatus, expectedCodes) = callerLevel switch
                    {
                        Level.Open => (401, ["token_missing"]),
                        // Also server administration under /namespaces/{namespace}: refusals never tell which namespaces exist.
                        Level.SignedIn when level is >= Level.Reader && (level < Level.ServerAdmin || endpoint.Pattern.Contains("{namespace}", StringComparison.Ordinal))
                            => (404, HiddenCodes(endpoint.Pattern)),
                        _ => (403, new[] { "forbidden" }),
                    };
                    if (status != expectedStatus || (endpoint.Method != HttpMethods.Head && !expectedCodes.Contains(code)))
                    {
                        wrong.Add($"{endpoint.Name} ({endpoint.Method} {url}) let {who} through: {status} {code}, expected {expectedStatus} {string.Join(" or ", expectedCodes)}");
                    }
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public async Task AReadScopedTokenReadsWhatItsRoleMayReadAndIsRefusedEveryChange()
    {
        var wrong = new List<string>();
        var (reads, refusals) = (0, 0);
        foreach (var endpoint in Endpoints().Where(e => Expected.ContainsKey(e.Name)))
        {
            var level = Expected[endpoint.Name];
            var reading = endpoint.Method is "GET" or "HEAD" || AllowedToReadScopedTokens.Contains(endpoint.Name);
            foreach (var (http, who) in _readScoped)
            {
                var url = await UrlAsync(endpoint.Pattern);
                using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), url);
                if (endpoint.Method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }

                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
                var status = (int)response.StatusCode;
                var code = await CodeAsync(response);
                if (reading && level <= Level.Reader)
                {
                    reads++;
                    if (status is 401 or 403)
                    {
                        wrong.Add($"{endpoint.Name} ({endpoint.Method} {url}) refused {who}: {status} {code}");
                    }
                }
                else
                {
                    refusals++;
                    if (status != 403 || (endpoint.Method != HttpMethods.Head && code != "forbidden"))
                    {
                        wrong.Add($"{endpoint.Name} ({endpoint.Method} {url}) let {who} through: {status} {code}, expected 403 forbidden");
                    }
                }
            }
        }

        Assert.True(reads > 40 && refusals > 80, $"{reads} reads, {refusals} refusals");
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public async Task EveryEndpointIsInTheOpenApiDocument()
    {
        var operations = await OpenApiOperations.ReadAsync(_server.Anonymous, Ct);
        var documented = operations.Operations.Select(o => $"{o.Method} {o.Path}").ToHashSet(StringComparer.Ordinal);
        var routes = Endpoints().Select(e => $"{e.Method} /{e.Pattern.TrimStart('/')}").Distinct(StringComparer.Ordinal).ToList();

        var missing = routes.Where(r => !documented.Contains(Canonical(r)) && !Undocumented.ContainsKey(r)).ToList();
        var stale = Undocumented.Keys.Where(r => !routes.Contains(r)).ToList();
        var phantom = documented.Where(d => !routes.Select(Canonical).Contains(d)).ToList();
        Assert.True(missing.Count == 0, "Served but not in the OpenAPI document: " + string.Join(", ", missing));
        Assert.True(stale.Count == 0, "Listed as undocumented but not served: " + string.Join(", ", stale));
        Assert.True(phantom.Count == 0, "In the OpenAPI document but not served: " + string.Join(", ", phantom));

        // A GET, HEAD or DELETE reads no body: documenting one (a parameter bound from the body by mistake) misleads clients.
        var bodies = operations.Operations.Where(o => o.Method is "GET" or "HEAD" or "DELETE" && o.BodyMediaType is not null).Select(o => o.ToString()).ToList();
        Assert.True(bodies.Count == 0, "Operations that document a request body they never read: " + string.Join(", ", bodies));

        // Every operation has its name, so clients and this matrix refer to the same thing.
        var unnamed = operations.Operations.Where(o => o.Id.Contains(' ', StringComparison.Ordinal)).Select(o => o.ToString()).ToList();
        Assert.True(unnamed.Count == 0, "Operations without an operationId: " + string.Join(", ", unnamed));

        // Route constraints and catch-alls ({id:long}, {**path}) are plain parameters in the document; a trailing slash is dropped.
        static string Canonical(string route) => RouteConstraint().Replace(route, m => "{" + m.Groups[1].Value + "}").TrimEnd('/');
    }

    [Fact]
    public async Task ANamespaceACallerMayNotSeeAnswersExactlyLikeOneThatDoesNotExist()
    {
        var outsider = _callers.Single(c => c.Level == Level.SignedIn).Http;
        var compared = 0;
        var different = new List<string>();
        foreach (var endpoint in Endpoints().Where(e => e.Pattern.Contains("{namespace}", StringComparison.Ordinal) && e.Method != HttpMethods.Head))
        {
            if (endpoint.Name is "CreateVersion" or "CreateModel" or "CreateRun")
            {
                // A push into a free name creates the namespace (when users may create namespaces): see
                // PushingIntoAHiddenOrMissingNamespaceWhereOnlyAdministratorsCreateOnesIsTheSame404.
                continue;
            }

            var url = await UrlAsync(endpoint.Pattern);
            var hidden = await AnswerAsync(outsider, endpoint.Method, url, Ns);
            var missing = await AnswerAsync(outsider, endpoint.Method, url.Replace($"/{Ns}/", "/nowhere-ns/", StringComparison.Ordinal).Replace($"/{Ns}", "/nowhere-ns", StringComparison.Ordinal), "nowhere-ns");
            compared++;
            // Also endpoints only server administrators may call (a namespace's quota): an outsider learns nothing from them.
            if (hidden.Status != 404 || hidden != missing)
            {
                different.Add($"{endpoint.Name}: {hidden} vs {missing}");
            }
        }

        Assert.True(compared > 40, $"only {compared} endpoints compared");
        Assert.True(different.Count == 0, string.Join('\n', different));
    }

    [Fact]
    public async Task AReaderWhoMayNotWriteIsToldWhichRoleIsNeeded()
    {
        var reader = _callers.Single(c => c.Level == Level.Reader).Http;
        using var response = await reader.SendJsonAsync(HttpMethod.Patch, $"/api/v1/models/{Ns}/m", """{"description":"x"}""", Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal("User 'reader-user' has the role 'reader' in namespace 'matrix'; this needs the writer role or higher.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task RefusedCallsChangeNothing()
    {
        var writer = _callers.Single(c => c.Level == Level.Writer).Http;
        var before = await PolicyAsync();
        using var policy = await writer.SendJsonAsync(HttpMethod.Put, $"/api/v1/namespaces/{Ns}/policy/stages/production", """{"requiredApprovals":0}""", Ct);
        await policy.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        using var member = await writer.SendJsonAsync(HttpMethod.Put, $"/api/v1/namespaces/{Ns}/members", """{"role":"admin","user":"writer-user"}""", Ct);
        await member.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        using var delete = await writer.DeleteAsync($"/api/v1/models/{Ns}/m/versions/1", Ct);
        await delete.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        Assert.Equal(before, await PolicyAsync());
        var members = await _server.Client.ListMembersAsync(Ns, Ct).ToListAsync(Ct);
        Assert.Equal(Roles.Writer, members.Single(m => m.User == "writer-user").Role);
        Assert.Equal("ready", (await _server.Client.GetVersionAsync(Contracts.Naming.ModelReference.Parse($"{Ns}/m:1"), cancellationToken: Ct)).State);
    }

    [Fact]
    public async Task TokenScopesCapWhatARoleAllows()
    {
        var admin = await _server.AddUserAsync("scoped-admin", Ns, Roles.Admin, scopes: ["read"]);
        using (var read = await admin.Http.GetAsync($"/api/v1/models/{Ns}/m", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        using var write = await admin.Http.SendJsonAsync(HttpMethod.Patch, $"/api/v1/models/{Ns}/m", """{"description":"x"}""", Ct);
        var problem = await write.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains("'write'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var serverAdminOnRead = _server.NewHttp((await _server.Client.CreateTokenAsync(new CreateTokenRequest("read-only", ["read"]), Ct)).Token);
        using var users = await serverAdminOnRead.GetAsync("/api/v1/users", Ct);
        await users.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    private async Task<string> PolicyAsync() =>
        System.Text.Json.JsonSerializer.Serialize(await _server.Client.GetPolicyAsync(Ns, cancellationToken: Ct), Contracts.Json.BerthJsonContext.Default.PolicyInfo);

    private async Task<string> UrlAsync(string pattern)
    {
        var url = pattern;
        if (url.Contains("requests/{id", StringComparison.Ordinal))
        {
            var opened = await _requester.Client.ChangeStageAsync(Contracts.Naming.ModelReference.Parse($"{Ns}/m:1"), "production", cancellationToken: Ct);
            url = RouteParameter().Replace(url, m => m.Groups[1].Value == "id" ? opened.Request!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : m.Value);
        }
        else if (url.Contains("webhooks/", StringComparison.Ordinal) && url.Contains("{id", StringComparison.Ordinal))
        {
            // A webhook of the namespace (to a closed port: pings fail fast), or one of its deliveries.
            var hook = await _server.Client.CreateWebhookAsync(Ns, new CreateWebhookRequest("http://127.0.0.1:9/hook"), Ct);
            var id = url.Contains("deliveries/{id", StringComparison.Ordinal) ? (await _server.Client.TestWebhookAsync(hook.Id, Ct)).Id : hook.Id;
            url = RouteParameter().Replace(url, m => m.Groups[1].Value == "id" ? id.ToString(System.Globalization.CultureInfo.InvariantCulture) : m.Value);
        }

        return "/" + RouteParameter().Replace(url, m => m.Groups[1].Value switch
        {
            "namespace" => Ns,
            "model" => "ghost",
            "selector" => "1",
            "alias" => "champion",
            "stage" => "nostage",
            "id" => "999999",
            "path" => "f.bin",
            "user" => "nobody",
            "team" => "noteam",
            "documentName" => "v1",

            var other => throw new InvalidOperationException($"No value for route parameter '{other}' in {pattern}."),
        }).TrimStart('/');
    }

    private IEnumerable<(string Name, string Method, string Pattern)> Endpoints()
    {
        var source = _server.Services.GetRequiredService<EndpointDataSource>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            // The web UI's pages, assets and run images check access page by page (tests/Berth.Web.Tests: RunPagesTests.Files
            // covers the images); this matrix is the API's.
            var raw = endpoint.RoutePattern.RawText ?? "";
            if (endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Components.Endpoints.ComponentTypeMetadata>() is not null
                || raw.StartsWith("/static/", StringComparison.Ordinal) || raw.StartsWith("/_framework/", StringComparison.Ordinal)
                || raw == "/{namespace}/{model}/runs/{id}/files/{**path}"
                // The OCI distribution API authorises per repository and action itself, in the spec's terms (tests/Berth.Api.Tests/Oci).
                || raw == "/v2" || raw.StartsWith("/v2/", StringComparison.Ordinal))
            {
                continue;
            }

            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [HttpMethods.Get];
            var pattern = endpoint.RoutePattern.RawText ?? "";
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            foreach (var method in methods)
            {
                yield return (name ?? $"{method} /{pattern.TrimStart('/')}", method, pattern);
            }
        }
    }

    /// <summary>What a caller who may not see the namespace is told: the namespace, or the addressed resource, does not exist.</summary>
    private static string[] HiddenCodes(string pattern) =>
        pattern.Contains("{namespace}", StringComparison.Ordinal) ? ["namespace_not_found"]
        : pattern.Contains("requests/{id", StringComparison.Ordinal) ? ["request_not_found"]
        : pattern.Contains("deliveries/{", StringComparison.Ordinal) ? ["delivery_not_found"]
        : pattern.Contains("webhooks/{", StringComparison.Ordinal) ? ["webhook_not_found"]
        : ["not_found"];

    /// <summary>Status, code and detail, with the namespace's name taken out: the shape of an answer.</summary>
    private static async Task<(int Status, string? Code, string? Detail)> AnswerAsync(HttpClient http, string method, string url, string ns)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        if (body.Length == 0 || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return ((int)response.StatusCode, null, body);
        }

        using var document = System.Text.Json.JsonDocument.Parse(body);
        var root = document.RootElement;
        return ((int)response.StatusCode, root.GetProperty("code").GetString(), root.GetProperty("detail").GetString()?.Replace($"'{ns}'", "'{ns}'", StringComparison.Ordinal));
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return null;
        }

        var body = await response.Content.ReadAsStringAsync(Ct);
        if (body.Length == 0)
        {
            return null;
        }

        using var document = System.Text.Json.JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("code", out var code) ? code.GetString() : null;
    }

    [GeneratedRegex(@"\{\*{0,2}([a-zA-Z]+)(:[a-z]+)?\??\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex(@"\{\*{0,2}([a-zA-Z]+)(?::[a-z]+)?\}")]
    private static partial Regex RouteConstraint();
}
