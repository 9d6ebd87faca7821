using System.Net;
using System.Text.Json;
using Berth.Api.Tests.Support;

namespace Berth.Api.Tests;

/// <summary>
/// Refusals never tell which namespaces exist: a signed-in user who may not read a namespace gets the same 404 as
/// for one that does not exist (the matrix test checks every route; these check the cases around it).
/// </summary>
public sealed class HiddenNamespaceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PushingIntoAHiddenOrMissingNamespaceWhereOnlyAdministratorsCreateOnesIsTheSame404()
    {
        await using var server = await TestServer.StartAsync("--Registry:NamespaceCreation=Admins");
        await server.CreateNamespaceAsync("secret-team");
        using var outsider = await server.AddUserAsync("outsider");
        var json = Support.Http.CreateVersionJson("sha256:" + new string('a', 64), 1);

        var hidden = await AnswerAsync(outsider.Http, "secret-team", json);
        var missing = await AnswerAsync(outsider.Http, "no-such-team", json);

        Assert.Equal((404, "namespace_not_found", "Namespace '{ns}' does not exist, or you have no role in it. Only server administrators may create namespaces on this server (setting Registry:NamespaceCreation=Admins)."), hidden);
        Assert.Equal(hidden, missing);
    }

    [Fact]
    public async Task PushingIntoSomeoneElsesNamespaceIsLikeAFreeNameTheUserMayNotCreateAndIntoTheirOwnCreatesIt()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateNamespaceAsync("their-team");
        using var outsider = await server.AddUserAsync("pusher");
        var json = Support.Http.CreateVersionJson("sha256:" + new string('b', 64), 1);

        // By default a user creates only the namespace named as themselves: the same answer for a taken name and a free one.
        var rule = " This server lets users create only their personal namespace, named as their user name ('pusher') (setting Registry:NamespaceCreation=Personal).";
        Assert.Equal((404, "namespace_not_found", "Namespace '{ns}' does not exist, or you have no role in it." + rule), await AnswerAsync(outsider.Http, "their-team", json));
        Assert.Equal(await AnswerAsync(outsider.Http, "their-team", json), await AnswerAsync(outsider.Http, "a-free-name", json));
        using var created = await outsider.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/pusher/m/versions", json, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task ARequestInANamespaceTheCallerMayNotSeeIsLikeOneThatDoesNotExist()
    {
        await using var server = await TestServer.StartAsync();
        await server.PushSmallAsync("gated", "m");
        await server.Client.SetStageRuleAsync("gated", null, "production", new Contracts.Dtos.SetStageRuleRequest(RequiredApprovals: 1), Ct);
        var request = (await server.Client.ChangeStageAsync(Versions.Ref("gated", "m", 1), "production", cancellationToken: Ct)).Request!;
        using var outsider = await server.AddUserAsync("curious");

        foreach (var (method, suffix) in new[] { (HttpMethod.Get, ""), (HttpMethod.Post, "/approve"), (HttpMethod.Post, "/cancel") })
        {
            using var existing = await outsider.Http.SendJsonAsync(method, $"/api/v1/requests/{request.Id}{suffix}", "{}", Ct);
            var problem = await existing.AssertProblemAsync(HttpStatusCode.NotFound, "request_not_found");
            Assert.Equal($"There is no request #{request.Id}.", problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task WithAnonymousReadsASignedInUserMayReadWhatAnybodyMayButNotWrite()
    {
        await using var server = await TestServer.StartAsync("--anonymous-read", "true");
        await server.PushSmallAsync("public", "m");
        using var user = await server.AddUserAsync("visitor");

        using (var read = await user.Http.GetAsync("/api/v1/models/public/m/versions/1/files/w.bin", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        using var write = await user.Http.SendJsonAsync(HttpMethod.Patch, "/api/v1/models/public/m", """{"description":"x"}""", Ct);
        var problem = await write.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains("needs the writer role", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static async Task<(int Status, string? Code, string? Detail)> AnswerAsync(HttpClient http, string ns, string json)
    {
        using var response = await http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/{ns}/m/versions", json, Ct);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var root = document.RootElement;
        return ((int)response.StatusCode, root.GetProperty("code").GetString(), root.GetProperty("detail").GetString()?.Replace($"'{ns}'", "'{ns}'", StringComparison.Ordinal));
    }
}
