using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;

namespace Berth.Api.Tests.Oci;

/// <summary>
/// Who may use /v2/: the same tokens and roles as the API, through HTTP Basic (user + API token), the bearer-token flow
/// (/v2/token, challenges) or an API token as bearer; anonymous pulls only with --anonymous-read.
/// </summary>
public sealed class OciAuthTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task PushAsync(string ns, string model)
    {
        await Server.CreateNamespaceIfMissingAsync(ns);
        await Server.PushSmallAsync(ns, model);
    }

    [Fact]
    public async Task WithoutCredentialsTheBaseAndEveryRepositoryAnswerAChallengeToTheTokenEndpoint()
    {
        await PushAsync("auth", "m");
        using var anonymous = Server.NewHttp(null);
        using (var response = await anonymous.GetAsync("/v2/", Ct))
        {
            await Oci.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            var challenge = response.Headers.WwwAuthenticate.Single().ToString();
            Assert.StartsWith($"Bearer realm=\"{Server.Address.Scheme}://{Server.Address.Authority}/v2/token\",service=\"{Server.Address.Authority}\"", challenge, StringComparison.Ordinal);
            Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-API-Version").Single());
        }

        using (var response = await anonymous.GetAsync("/v2/auth/m/manifests/latest", Ct))
        {
            await Oci.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            Assert.Contains("scope=\"repository:auth/m:pull\"", response.Headers.WwwAuthenticate.Single().ToString(), StringComparison.Ordinal);
        }

        // An anonymous token grants nothing without anonymous reads.
        var token = await Oci.TokenAsync(Server, null, null, "repository:auth/m:pull");
        using var bearer = Oci.Bearer(Server, token);
        using var refused = await bearer.GetAsync("/v2/auth/m/manifests/latest", Ct);
        await Oci.AssertErrorAsync(refused, HttpStatusCode.Forbidden, "DENIED");
    }

    [Fact]
    public async Task TheTokenFlowGrantsWhatTheRoleAllowsAndNothingElse()
    {
        await PushAsync("roles", "m");
        using var reader = await Server.AddUserAsync("oci-reader", "roles", "reader");
        var token = await Oci.TokenAsync(Server, reader.Name, reader.Token, "repository:roles/m:pull,push");
        using var bearer = Oci.Bearer(Server, token);
        using (var ok = await bearer.GetAsync("/v2/", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        await Oci.GetManifestAsync(bearer, "roles/m", "latest");
        using (var push = await bearer.PostAsync("/v2/roles/m/blobs/uploads/", null, Ct))
        {
            await Oci.AssertErrorAsync(push, HttpStatusCode.Forbidden, "DENIED");
        }

        // A repository the token does not name: a new challenge for it.
        using (var other = await bearer.GetAsync("/v2/roles/other/tags/list", Ct))
        {
            await Oci.AssertErrorAsync(other, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            Assert.Contains("repository:roles/other:pull", other.Headers.WwwAuthenticate.Single().ToString(), StringComparison.Ordinal);
        }

        // A writer's token may push.
        using var writer = await Server.AddUserAsync("oci-writer", "roles", "writer");
        using var writing = Oci.Bearer(Server, await Oci.TokenAsync(Server, writer.Name, writer.Token, "repository:roles/m:pull,push"));
        using (var start = await writing.PostAsync("/v2/roles/m/blobs/uploads/", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        }

        // A tampered token is refused.
        using var tampered = Oci.Bearer(Server, token[..^4] + (token.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA"));
        using var bad = await tampered.GetAsync("/v2/roles/m/manifests/latest", Ct);
        await Oci.AssertErrorAsync(bad, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task BasicCredentialsAreAUserAndOneOfItsApiTokens()
    {
        await PushAsync("basic", "m");
        using var user = await Server.AddUserAsync("oci-basic", "basic", "reader");
        using (var good = Oci.Basic(Server, user.Name, user.Token))
        {
            await Oci.GetManifestAsync(good, "basic/m", "latest");
        }

        using (var wrongUser = Oci.Basic(Server, "admin", user.Token))
        using (var response = await wrongUser.GetAsync("/v2/basic/m/manifests/latest", Ct))
        {
            await Oci.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }

        using (var wrongToken = Oci.Basic(Server, user.Name, "berth_" + new string('x', 48)))
        using (var response = await wrongToken.GetAsync("/v2/", Ct))
        {
            await Oci.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }

        // The token endpoint refuses wrong credentials too, rather than issuing an anonymous token.
        using (var wrong = Oci.Basic(Server, user.Name, "not-a-token"))
        using (var response = await wrong.GetAsync("/v2/token?scope=repository:basic/m:pull", Ct))
        {
            await Oci.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }

        // An API token works as a bearer token too.
        using var bearer = Server.NewHttp(user.Token);
        await Oci.GetManifestAsync(bearer, "basic/m", "latest");

        // No role in the namespace: not even told whether the repository exists.
        using var outsider = await Server.AddUserAsync("oci-outsider");
        using var outside = Oci.Basic(Server, outsider.Name, outsider.Token);
        using var hidden = await outside.GetAsync("/v2/basic/m/manifests/latest", Ct);
        await Oci.AssertErrorAsync(hidden, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task AnonymousPullsNeedAnonymousReadAndNeverPush()
    {
        await using var server = await TestServer.StartAsync("--anonymous-read", "true");
        using var folder = new ModelFolder(("w.bin", 64));
        await server.Client.PushAsync(folder.Root, "open", "m", new PushOptions(), cancellationToken: Ct);
        using var anonymous = server.NewHttp(null);
        using (var ping = await anonymous.GetAsync("/v2/", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        }

        await Oci.GetManifestAsync(anonymous, "open/m", "latest");
        using var push = await anonymous.PostAsync("/v2/open/m/blobs/uploads/", null, Ct);
        await Oci.AssertErrorAsync(push, HttpStatusCode.Unauthorized, "UNAUTHORIZED");

        var token = await Oci.TokenAsync(server, null, null, "repository:open/m:pull,push");
        using var bearer = Oci.Bearer(server, token);
        await Oci.GetManifestAsync(bearer, "open/m", "latest");
        using var pushWithToken = await bearer.PostAsync("/v2/open/m/blobs/uploads/", null, Ct);
        await Oci.AssertErrorAsync(pushWithToken, HttpStatusCode.Forbidden, "DENIED");
    }
}
