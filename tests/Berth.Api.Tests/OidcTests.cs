using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Server.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Api.Tests;

/// <summary>A local identity provider and a Berth server that accepts its tokens (admin group: <c>berth-admins</c>).</summary>
public sealed class OidcFixture : IAsyncLifetime
{
    public const string AdminGroup = "berth-admins";

    private OidcProvider? _provider;
    private TestServer? _server;

    public OidcProvider Provider => _provider ?? throw new InvalidOperationException("Not started.");
    public TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        _provider = await OidcProvider.StartAsync();
        _server = await TestServer.StartAsync(_provider.ServerArgs("--Oidc:AdminGroups:0", AdminGroup));
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_provider is not null) await _provider.DisposeAsync();
    }
}

public sealed class OidcTests(OidcFixture fixture) : IClassFixture<OidcFixture>
{
    private TestServer Server => fixture.Server;
    private OidcProvider Provider => fixture.Provider;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewSubject() => Guid.NewGuid().ToString();

    [Fact]
    public async Task TheFirstSignInCreatesTheUserFromTheTokensClaimsAndLaterOnesFindIt()
    {
        var subject = NewSubject();
        var jwt = Provider.Mint(subject, "Ada.Lovelace@corp.example", "ada@corp.example", "Ada Lovelace");
        using var client = Server.NewClient(jwt);

        var first = await client.WhoAmIAsync(Ct);
        Assert.Equal("ada.lovelace", first.User.Name);
        Assert.Equal("ada@corp.example", first.User.Email);
        Assert.Equal("Ada Lovelace", first.User.DisplayName);
        Assert.False(first.User.IsAdmin);
        Assert.False(first.Anonymous);
        Assert.Null(first.Token);

        // A second request, and a new token of the same subject, find the same user.
        Assert.Equal(first.User.Id, (await client.WhoAmIAsync(Ct)).User.Id);
        using var later = Server.NewClient(Provider.Mint(subject, "Ada.Lovelace@corp.example", "ada@corp.example", "Ada Lovelace"));
        Assert.Equal(first.User.Id, (await later.WhoAmIAsync(Ct)).User.Id);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            Assert.Equal(1, await db.Users.CountAsync(u => u.ExternalSubject == subject, Ct));
        }

        var details = await Server.Client.GetUserAsync("ada.lovelace", Ct);
        Assert.Equal(Provider.Issuer, details.ExternalIssuer);
        Assert.False(details.HasPassword);
        Assert.NotNull(details.LastSignInAt);

        var created = Assert.Single(await Server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct), e => e.Action == "user.create" && e.Target == "user ada.lovelace");
        Assert.Equal("ada.lovelace", created.Actor);
        Assert.Contains(subject, created.Details, StringComparison.Ordinal);
        Assert.True((await Server.Client.VerifyAuditAsync(Ct)).Valid);
    }

    [Fact]
    public async Task ConcurrentFirstRequestsCreateOneUser()
    {
        var subject = NewSubject();
        var jwt = Provider.Mint(subject, "concurrent", groups: ["racing-group"]);
        await Server.Client.CreateTeamAsync(new CreateTeamRequest("racers", ExternalGroup: "racing-group"), Ct);
        using var client = Server.NewClient(jwt);

        var users = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.WhoAmIAsync(Ct)));
        Assert.Single(users.Select(u => u.User.Id).Distinct());
        Assert.Equal(["concurrent"], (await Server.Client.GetTeamAsync("racers", Ct)).Members);
        var audit = await Server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Single(audit, e => e is { Action: "user.create", Target: "user concurrent" });
        Assert.Single(audit, e => e is { Action: "team.member_add", Target: "team racers" });
    }

    [Fact]
    public async Task TheProviderKeepsEmailAndDisplayNameCurrentWithoutRenamingTheUser()
    {
        var subject = NewSubject();
        using (var client = Server.NewClient(Provider.Mint(subject, "grace", "grace@old.example", "Grace")))
        {
            Assert.Equal("grace@old.example", (await client.WhoAmIAsync(Ct)).User.Email);
        }

        using var renamed = Server.NewClient(Provider.Mint(subject, "grace.hopper", "grace@new.example", "Grace Hopper"));
        var me = (await renamed.WhoAmIAsync(Ct)).User;
        Assert.Equal(("grace", "grace@new.example", "Grace Hopper"), (me.Name, me.Email, me.DisplayName));
        Assert.Contains(await Server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct), e => e.Action == "user.update" && e.Target == "user grace" && e.Details!.Contains("grace@new.example", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RepeatedRequestsWriteNothingAndANewerTokenRecordsASignIn()
    {
        var subject = NewSubject();
        using var client = Server.NewClient(Provider.Mint(subject, "alan"));
        await client.WhoAmIAsync(Ct);
        var revision = (await Server.Client.GetUserAsync("alan", Ct)).Revision;
        await client.WhoAmIAsync(Ct);
        Assert.Equal(revision, (await Server.Client.GetUserAsync("alan", Ct)).Revision);

        var anHourAgo = DateTime.UtcNow.AddHours(-1);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            await db.Users.Where(u => u.ExternalSubject == subject).ExecuteUpdateAsync(s => s.SetProperty(u => u.LastSignInAt, anHourAgo), Ct);
        }

        using var newer = Server.NewClient(Provider.Mint(subject, "alan"));
        await newer.WhoAmIAsync(Ct);
        var details = await Server.Client.GetUserAsync("alan", Ct);
        Assert.True(details.LastSignInAt > anHourAgo.AddMinutes(30), $"last sign-in {details.LastSignInAt}");
        Assert.Equal(revision + 1, details.Revision);
    }

    [Fact]
    public async Task NamesFollowTheNamingRulesAndNeverTakeOverAnExistingUser()
    {
        await Server.Client.CreateUserAsync(new CreateUserRequest("linus"), Ct);
        using var first = Server.NewClient(Provider.Mint(NewSubject(), "Linus"));
        using var second = Server.NewClient(Provider.Mint(NewSubject(), "linus"));
        using var noName = Server.NewClient(Provider.Mint("Ünïcode Subject!"));

        Assert.Equal("linus-2", (await first.WhoAmIAsync(Ct)).User.Name);
        Assert.Equal("linus-3", (await second.WhoAmIAsync(Ct)).User.Name);
        Assert.Equal("unicode-subject", (await noName.WhoAmIAsync(Ct)).User.Name);
        Assert.Null((await Server.Client.GetUserAsync("linus", Ct)).ExternalIssuer);
    }

    [Fact]
    public async Task GroupsGiveTheRolesOfTheirTeamsAndLosingAGroupTakesThemAway()
    {
        await Server.Client.CreateNamespaceAsync(new CreateNamespaceRequest("oidc-ml"), Ct);
        await Server.Client.CreateTeamAsync(new CreateTeamRequest("ml-writers", ExternalGroup: "ml-engineers"), Ct);
        await Server.Client.SetMemberAsync("oidc-ml", new SetMemberRequest("writer", Team: "ml-writers"), Ct);
        var subject = NewSubject();

        using (var engineer = Server.NewClient(Provider.Mint(subject, "marie", groups: ["ml-engineers", "unmapped-group"])))
        {
            await engineer.CreateModelAsync("oidc-ml", new CreateModelRequest("from-group"), Ct);
            Assert.Equal(["marie"], (await Server.Client.GetTeamAsync("ml-writers", Ct)).Members);

            // The same token again changes nothing.
            var entries = (await Server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct)).Count;
            await engineer.WhoAmIAsync(Ct);
            Assert.Equal(entries, (await Server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct)).Count);
        }

        using var moved = Server.NewClient(Provider.Mint(subject, "marie", groups: ["unmapped-group"]));
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => moved.CreateModelAsync("oidc-ml", new CreateModelRequest("no-group"), Ct));
        Assert.Equal(HttpStatusCode.NotFound, refused.Status);
        Assert.Equal("namespace_not_found", refused.Code);
        Assert.Empty((await Server.Client.GetTeamAsync("ml-writers", Ct)).Members);

        var audit = await Server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Contains(audit, e => e is { Action: "team.member_add", Target: "team ml-writers", Actor: "marie" });
        Assert.Contains(audit, e => e is { Action: "team.member_remove", Target: "team ml-writers", Actor: "marie" });
    }

    [Fact]
    public async Task TeamsWithoutAGroupKeepTheMembersAdministratorsGaveThem()
    {
        await Server.Client.CreateTeamAsync(new CreateTeamRequest("hand-picked"), Ct);
        using var client = Server.NewClient(Provider.Mint(NewSubject(), "hedy", groups: []));
        var name = (await client.WhoAmIAsync(Ct)).User.Name;
        await Server.Client.AddTeamMemberAsync("hand-picked", name, Ct);

        await client.WhoAmIAsync(Ct);
        Assert.Equal([name], (await Server.Client.GetTeamAsync("hand-picked", Ct)).Members);
    }

    [Fact]
    public async Task AdminGroupsMakeServerAdministratorsForAsLongAsTheTokenSaysSo()
    {
        var subject = NewSubject();
        using (var admin = Server.NewClient(Provider.Mint(subject, "barbara", groups: [OidcFixture.AdminGroup])))
        {
            Assert.True((await admin.WhoAmIAsync(Ct)).User.IsAdmin);
            Assert.Contains(await admin.ListUsersAsync(Ct).ToListAsync(Ct), u => u.Name == "barbara");
        }

        using var former = Server.NewClient(Provider.Mint(subject, "barbara", groups: ["other"]));
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => former.ListUsersAsync(Ct).ToListAsync(Ct).AsTask());
        Assert.Equal("forbidden", refused.Code);
        Assert.False((await former.WhoAmIAsync(Ct)).User.IsAdmin);
    }

    public enum Flaw { ForeignKey, UnknownKey, Issuer, Audience, Expired, NotYetValid, Garbage }

    [Theory]
    [InlineData(Flaw.ForeignKey, "token_invalid")]
    [InlineData(Flaw.Issuer, "token_invalid")]
    [InlineData(Flaw.Audience, "token_invalid")]
    [InlineData(Flaw.Expired, "token_expired")]
    [InlineData(Flaw.NotYetValid, "token_invalid")]
    [InlineData(Flaw.Garbage, "token_malformed")]
    public async Task BadTokensAreRefusedWithAStableCode(Flaw flaw, string code)
    {
        var subject = NewSubject();
        var foreign = OidcProvider.NewKey();
        var jwt = flaw switch
        {
            // Signed by someone else, under the provider's own key id.
            Flaw.ForeignKey => Provider.Mint(subject, "mallory", key: new Microsoft.IdentityModel.Tokens.RsaSecurityKey(foreign.Rsa) { KeyId = Provider.SigningKey.KeyId }),
            Flaw.Issuer => Provider.Mint(subject, "mallory", issuer: Provider.Issuer + "/elsewhere"),
            Flaw.Audience => Provider.Mint(subject, "mallory", audience: "another-app"),
            Flaw.Expired => Provider.Mint(subject, "mallory", issuedAt: DateTime.UtcNow.AddHours(-2), expires: DateTime.UtcNow.AddMinutes(-10)),
            Flaw.NotYetValid => NotYetValid(subject),
            _ => "eyJub3QiOiJqc29uIn0.bm90LWEtcGF5bG9hZA.c2lnbmF0dXJl",
        };

        using var http = Server.NewHttp(jwt);
        using var response = await http.GetAsync("/api/v1/whoami", Ct);
        foreign.Rsa.Dispose();
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized, code);
        Assert.DoesNotContain(jwt, problem.GetRawText(), StringComparison.Ordinal);

        await using var scope = Server.Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Users.AnyAsync(u => u.ExternalSubject == subject, Ct));
    }

    private string NotYetValid(string subject)
    {
        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = Provider.Issuer,
            Audience = OidcProvider.Audience,
            Claims = new Dictionary<string, object> { ["sub"] = subject },
            IssuedAt = DateTime.UtcNow,
            NotBefore = DateTime.UtcNow.AddHours(1),
            Expires = DateTime.UtcNow.AddHours(2),
            SigningCredentials = new(Provider.SigningKey, Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaSha256),
        });
    }

    [Fact]
    public async Task ADisabledUsersTokenIsRefusedAtOnce()
    {
        using var client = Server.NewClient(Provider.Mint(NewSubject(), "eve"));
        var name = (await client.WhoAmIAsync(Ct)).User.Name;

        await Server.Client.UpdateUserAsync(name, new UpdateUserRequest(Disabled: true), Ct);
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => client.WhoAmIAsync(Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("user_disabled", refused.Code);
    }

    [Fact]
    public async Task BerthTokensWorkAlongsideAndAProviderUserCanCreateThem()
    {
        Assert.Equal("admin", (await Server.Client.WhoAmIAsync(Ct)).User.Name);

        using var client = Server.NewClient(Provider.Mint(NewSubject(), "katherine"));
        var created = await client.CreateTokenAsync(new CreateTokenRequest("ci"), Ct);
        using var withToken = Server.NewClient(created.Token);
        var me = await withToken.WhoAmIAsync(Ct);
        Assert.Equal("katherine", me.User.Name);
        Assert.Equal(created.Info.Id, me.Token!.Id);
    }

    [Fact]
    public async Task OpenEndpointsIgnoreTheToken()
    {
        using var http = Server.NewHttp("eyJub3QiOiJqc29uIn0.bm90LWEtcGF5bG9hZA.c2lnbmF0dXJl");
        using var response = await http.GetAsync("/healthz", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

/// <summary>Key rollover: a token signed with a key the server has not seen makes it fetch the key set again.</summary>
public sealed class OidcKeyRotationTests : IAsyncLifetime
{
    private OidcProvider _provider = null!;
    private TestServer _server = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _provider = await OidcProvider.StartAsync();
        _server = await TestServer.StartAsync(_provider.ServerArgs());
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _provider.DisposeAsync();
    }

    [Fact]
    public async Task ATokenSignedWithANewlyPublishedKeyIsAccepted()
    {
        // IdentityModel refreshes keys in the background (refusing the first tokens of a rollover) unless a
        // process-wide switch was set before the library first read it, and it caches that first read: whether
        // it was set depended on what else ran first in the process (a token minted before any OIDC server was
        // built read it as off). Berth must not depend on it: read as off here, whatever ran before.
        typeof(Microsoft.IdentityModel.Tokens.SecurityKey).Assembly.GetType("Microsoft.IdentityModel.Tokens.AppContextSwitches")!
            .GetField("_updateConfigAsBlockingCall", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .SetValue(null, false);
        var subject = Guid.NewGuid().ToString();
        using (var before = _server.NewClient(_provider.Mint(subject, "rotor")))
        {
            Assert.Equal("rotor", (await before.WhoAmIAsync(Ct)).User.Name);
        }

        var fetched = _provider.KeyRequests;
        _provider.RotateKey();
        using var after = _server.NewClient(_provider.Mint(subject, "rotor"));
        Assert.Equal("rotor", (await after.WhoAmIAsync(Ct)).User.Name);
        Assert.True(_provider.KeyRequests > fetched);
    }
}

/// <summary>Servers configured differently: no OIDC, a bare key set without discovery, no user creation, an unreachable provider.</summary>
public sealed class OidcConfigurationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WithoutOidcAJwtIsAMalformedToken()
    {
        await using var provider = await OidcProvider.StartAsync();
        await using var server = await TestServer.StartAsync();
        using var http = server.NewHttp(provider.Mint(Guid.NewGuid().ToString(), "someone"));
        using var response = await http.GetAsync("/api/v1/whoami", Ct);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "token_malformed");
    }

    [Fact]
    public async Task AKeySetUrlReplacesDiscoveryAndWithoutAutoCreationOnlyLinkedUsersGetIn()
    {
        await using var provider = await OidcProvider.StartAsync();
        await using var server = await TestServer.StartAsync(provider.ServerArgs(
            "--Oidc:JwksUrl", provider.JwksUrl,
            "--Oidc:MetadataAddress", provider.Issuer + "/nothing-here",
            "--Oidc:AutoCreateUsers", "false"));

        using var stranger = server.NewHttp(provider.Mint("stranger", "stranger"));
        using var refused = await stranger.GetAsync("/api/v1/whoami", Ct);
        await refused.AssertProblemAsync(HttpStatusCode.Forbidden, "user_not_provisioned");

        await server.Client.CreateUserAsync(new CreateUserRequest("known"), Ct);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            await db.Users.Where(u => u.Name == "known").ExecuteUpdateAsync(s => s.SetProperty(u => u.ExternalIssuer, provider.Issuer).SetProperty(u => u.ExternalSubject, "known-subject"), Ct);
        }

        using var known = server.NewClient(provider.Mint("known-subject", "whatever-name"));
        Assert.Equal("known", (await known.WhoAmIAsync(Ct)).User.Name);
        Assert.Equal(1, provider.KeyRequests);
    }

    [Fact]
    public async Task AnUnreachableProviderIsA503()
    {
        string issuer;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            issuer = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        }

        await using var provider = await OidcProvider.StartAsync();
        await using var server = await TestServer.StartAsync("--Oidc:Issuer", issuer, "--Oidc:Audience", OidcProvider.Audience, "--Oidc:RequireHttpsMetadata", "false");
        using var http = server.NewHttp(provider.Mint("someone", "someone", issuer: issuer));
        using var response = await http.GetAsync("/api/v1/whoami", Ct);
        await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "service_unavailable");
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public void AnIssuerWithoutAudienceIsAConfigurationError()
    {
        var data = TempFolder.Create("berth-oidc-config");
        try
        {
            using var app = BerthServer.Build(["--data", data, "--Oidc:Issuer", "https://login.example.com"]);
            var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IOptions<OidcOptions>>().Value);
            Assert.Contains("Oidc:Audience", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            TempFolder.Delete(data);
        }
    }
}
