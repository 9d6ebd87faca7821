using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

public sealed class AuthTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(null, "token_missing")]
    [InlineData("Basic YWRtaW46YWRtaW4=", "token_malformed")]
    [InlineData("Bearer not-a-berth-token", "token_malformed")]
    [InlineData("Bearer berth_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "token_invalid")]
    public async Task RequestsWithoutAValidTokenAre401(string? authorization, string code)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await Server.Anonymous.SendAsync(request, Ct);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, code);
    }

    [Fact]
    public async Task ARevokedTokenStopsWorkingAtOnce()
    {
        var created = await Server.Client.CreateTokenAsync(new CreateTokenRequest("to-revoke"), Ct);
        Assert.StartsWith("berth_", created.Token, StringComparison.Ordinal);
        using var client = Server.NewClient(created.Token);
        Assert.Equal("admin", (await client.WhoAmIAsync(Ct)).User.Name);

        var revoked = await Server.Client.RevokeTokenAsync(created.Info.Id, Ct);
        Assert.NotNull(revoked.RevokedAt);
        var error = await Assert.ThrowsAsync<BerthProblemException>(() => client.WhoAmIAsync(Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
        Assert.Equal("token_revoked", error.Code);
    }

    [Fact]
    public async Task AnExpiredTokenIsRefused()
    {
        var created = await Server.Client.CreateTokenAsync(new CreateTokenRequest("short-lived", ExpiresInDays: 1), Ct);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            await db.ApiTokens.Where(t => t.Id == created.Info.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTime.UtcNow.AddMinutes(-1)), Ct);
        }

        using var client = Server.NewClient(created.Token);
        var error = await Assert.ThrowsAsync<BerthProblemException>(() => client.WhoAmIAsync(Ct));
        Assert.Equal("token_expired", error.Code);
    }

    [Fact]
    public async Task TokensAreStoredOnlyAsHashesAndListedWithoutSecrets()
    {
        var created = await Server.Client.CreateTokenAsync(new CreateTokenRequest("listed"), Ct);
        var listed = await Server.Client.ListTokensAsync(cancellationToken: Ct).ToListAsync(Ct);
        var info = Assert.Single(listed, t => t.Id == created.Info.Id);
        Assert.Equal(created.Token[..12], info.Prefix);

        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var row = await db.ApiTokens.SingleAsync(t => t.Id == created.Info.Id, Ct);
        Assert.DoesNotContain(created.Token[6..], row.Hash, StringComparison.Ordinal);
        Assert.Equal(64, row.Hash.Length);

        using var raw = await Server.Http.GetAsync("/api/v1/tokens", Ct);
        Assert.DoesNotContain(created.Token, await raw.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScopesLimitWhatATokenMayDo()
    {
        var read = await Server.Client.CreateTokenAsync(new CreateTokenRequest("reader", ["read"]), Ct);
        using var client = Server.NewClient(read.Token);
        Assert.Equal(["read"], (await client.WhoAmIAsync(Ct)).Token!.Scopes);
        await foreach (var _ in client.ListNamespacesAsync(Ct))
        {
        }

        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => client.CreateModelAsync("acme", new CreateModelRequest("by-reader"), Ct));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("forbidden", refused.Code);

        // A token cannot mint a token with more rights than its own.
        var escalation = await Assert.ThrowsAsync<BerthProblemException>(() => client.CreateTokenAsync(new CreateTokenRequest("sneaky", ["admin"]), Ct));
        Assert.Equal("forbidden", escalation.Code);
    }

    [Fact]
    public async Task TheBootstrapTokenFileIsReadableOnlyByItsOwner()
    {
        var mode = File.GetUnixFileMode(Path.Combine(Server.DataDirectory, "admin-token"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }

    [Fact]
    public async Task ARestartDoesNotCreateASecondAdministrator()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var bootstrapper = scope.ServiceProvider.GetRequiredService<Berth.Core.Auth.Bootstrapper>();
        Assert.Null(await bootstrapper.EnsureAdministratorAsync(null, Ct));
        Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Users.CountAsync(Ct));
    }
}

/// <summary>Anonymous reads when the operator enables them; writes still need a token.</summary>
public sealed class AnonymousReadTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync("--anonymous-read", "true");

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AnonymousCallersMayReadButNotWrite()
    {
        using var model = new ModelFolder(("m.bin", 10));
        await _server.Client.PushAsync(model.Root, "open", "model", new Berth.Client.Transfers.PushOptions(), cancellationToken: Ct);

        var listed = await (await _server.Anonymous.GetAsync("/api/v1/models/open", Ct)).ReadAsync(BerthJsonContext.Default.PageModelInfo);
        Assert.Equal("model", Assert.Single(listed.Items).Name);
        using var download = await _server.Anonymous.GetAsync("/api/v1/models/open/model/versions/latest/files/m.bin", Ct);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);

        using var write = await _server.Anonymous.SendJsonAsync(HttpMethod.Post, "/api/v1/models/open", """{"name":"sneaky"}""", Ct);
        await write.AssertProblemAsync(HttpStatusCode.Unauthorized, "token_missing");

        // A bad token is still an error, not anonymous access.
        using var bad = _server.NewHttp("berth_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        await (await bad.GetAsync("/api/v1/models/open", Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized, "token_invalid");
    }
}
