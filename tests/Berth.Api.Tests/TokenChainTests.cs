using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests;

/// <summary>A token never outlives or outranks the token that created it, and is revoked with it (docs/governance.md).</summary>
public sealed class TokenChainTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private BerthClient Admin => Server.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ATokenWithADayLeftCannotCreateALongerLivedToken()
    {
        var parent = await Admin.CreateTokenAsync(new CreateTokenRequest("one-day", ExpiresInDays: 1), Ct);
        var parentExpiry = parent.Info.ExpiresAt!.Value;
        using var client = Server.NewClient(parent.Token);

        var inherited = await client.CreateTokenAsync(new CreateTokenRequest("no-expiry-asked"), Ct);
        Assert.Equal(parentExpiry, inherited.Info.ExpiresAt);

        foreach (var request in new[]
        {
            new CreateTokenRequest("two-days", ExpiresInDays: 2),
            new CreateTokenRequest("next-year", ExpiresAt: DateTimeOffset.UtcNow.AddYears(1)),
            new CreateTokenRequest("just-after", ExpiresAt: parentExpiry.AddSeconds(1)),
        })
        {
            var refused = await Assert.ThrowsAsync<BerthProblemException>(() => client.CreateTokenAsync(request, Ct));
            Assert.Equal((HttpStatusCode.BadRequest, "token_expiry_too_late"), (refused.Status, refused.Code));
            Assert.Contains("never outlives", refused.Message, StringComparison.Ordinal);
        }

        var shorter = await client.CreateTokenAsync(new CreateTokenRequest("an-hour", ExpiresAt: DateTimeOffset.UtcNow.AddHours(1)), Ct);
        Assert.True(shorter.Info.ExpiresAt < parentExpiry);
        Assert.Equal(parentExpiry, (await client.CreateTokenAsync(new CreateTokenRequest("to-the-end", ExpiresAt: parentExpiry), Ct)).Info.ExpiresAt);
    }

    [Fact]
    public async Task TheLongestLifetimeAppliesToEveryWayOfAskingForAnExpiry()
    {
        foreach (var request in new[]
        {
            new CreateTokenRequest("days", ExpiresInDays: 3651),
            new CreateTokenRequest("days-overflow", ExpiresInDays: int.MaxValue),
            new CreateTokenRequest("time", ExpiresAt: DateTimeOffset.UtcNow.AddDays(3651)),
            new CreateTokenRequest("far", ExpiresAt: new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        })
        {
            var refused = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.CreateTokenAsync(request, Ct));
            Assert.Equal((HttpStatusCode.BadRequest, "token_expiry_too_late"), (refused.Status, refused.Code));
            Assert.Contains("3650 days", refused.Message, StringComparison.Ordinal);
        }

        var both = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.CreateTokenAsync(new CreateTokenRequest("both", ExpiresInDays: 1, ExpiresAt: DateTimeOffset.UtcNow.AddHours(1)), Ct));
        Assert.Equal("invalid_request", both.Code);
        Assert.NotNull((await Admin.CreateTokenAsync(new CreateTokenRequest("longest", ExpiresInDays: 3650), Ct)).Info.ExpiresAt);
    }

    [Fact]
    public async Task RevokingATokenRevokesEveryTokenItCreatedAndTheirsInTurn()
    {
        using var carol = await Server.AddUserAsync("carol-chain");
        var a = await Admin.CreateTokenAsync(new CreateTokenRequest("a"), Ct);
        var sibling = await Admin.CreateTokenAsync(new CreateTokenRequest("sibling"), Ct);
        using var viaA = Server.NewClient(a.Token);
        var b = await viaA.CreateTokenAsync(new CreateTokenRequest("b"), Ct);
        var forCarol = await viaA.CreateTokenAsync(new CreateTokenRequest("minted-for-carol", User: "carol-chain"), Ct);
        using var viaB = Server.NewClient(b.Token);
        var c = await viaB.CreateTokenAsync(new CreateTokenRequest("c"), Ct);
        using var viaCarol = Server.NewClient(forCarol.Token);
        var carolsOwn = await viaCarol.CreateTokenAsync(new CreateTokenRequest("carols-laptop"), Ct);

        // Revoking the middle of a chain stops it and what hangs below it, not what is above.
        await viaA.RevokeTokenAsync(b.Info.Id, Ct);
        await AssertRevokedAsync(b.Token, c.Token);
        await AssertWorksAsync(a.Token, forCarol.Token, carolsOwn.Token);

        await Admin.RevokeTokenAsync(a.Info.Id, Ct);
        await AssertRevokedAsync(a.Token, forCarol.Token, carolsOwn.Token);
        await AssertWorksAsync(sibling.Token, Server.AdminToken, carol.Token);

        var revocations = await Admin.ListAuditAsync(cancellationToken: Ct).Where(e => e.Action == "token.revoke").ToListAsync(Ct);
        Assert.Contains(revocations, e => e.Target == $"token {carolsOwn.Info.Prefix}… of carol-chain" && e.Details!.Contains("was revoked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAdministratorMintingForAnotherUserIsCappedByTheirOwnToken()
    {
        await Server.AddUserAsync("dave-chain");
        var limited = await Admin.CreateTokenAsync(new CreateTokenRequest("admin-read-week", ["read"], ExpiresInDays: 7), Ct);
        using var admin = Server.NewClient(limited.Token);

        var wider = await Assert.ThrowsAsync<BerthProblemException>(() => admin.CreateTokenAsync(new CreateTokenRequest("w", ["write"], User: "dave-chain"), Ct));
        Assert.Equal("forbidden", wider.Code);
        var longer = await Assert.ThrowsAsync<BerthProblemException>(() => admin.CreateTokenAsync(new CreateTokenRequest("l", User: "dave-chain", ExpiresInDays: 8), Ct));
        Assert.Equal("token_expiry_too_late", longer.Code);

        var minted = await admin.CreateTokenAsync(new CreateTokenRequest("d", User: "dave-chain"), Ct);
        Assert.Equal(["read"], minted.Info.Scopes);
        Assert.Equal(limited.Info.ExpiresAt, minted.Info.ExpiresAt);
        Assert.Equal("dave-chain", minted.Info.User);
    }

    [Fact]
    public async Task ASignInSessionIsTheRootOfItsChain()
    {
        var created = await Admin.CreateUserAsync(new CreateUserRequest("erin-chain"), Ct);
        using var anonymous = Server.NewClient(null);
        var session = await anonymous.SignInAsync(new SignInRequest("erin-chain", created.OneTimePassword, "erins password", ExpiresInDays: 2), Ct);
        var expiry = session.Session.Info.ExpiresAt!.Value;
        Assert.InRange(expiry, DateTimeOffset.UtcNow.AddDays(2).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2).AddMinutes(5));
        var tooLong = await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("erin-chain", "erins password", ExpiresInDays: 3651), Ct));
        Assert.Equal("token_expiry_too_late", tooLong.Code);

        using var erin = Server.NewClient(session.Session.Token);
        var child = await erin.CreateTokenAsync(new CreateTokenRequest("ci"), Ct);
        Assert.Equal(expiry, child.Info.ExpiresAt);
        await erin.RevokeTokenAsync(session.Session.Info.Id, Ct);
        await AssertRevokedAsync(session.Session.Token, child.Token);
    }

    [Fact]
    public async Task ATokenCreatedWhileItsCreatorIsRevokedDoesNotSurviveIt()
    {
        var parent = await Admin.CreateTokenAsync(new CreateTokenRequest("racing-parent"), Ct);
        using var client = Server.NewClient(parent.Token);
        var creations = Enumerable.Range(0, 12).Select(async i =>
        {
            try
            {
                return (await client.CreateTokenAsync(new CreateTokenRequest("racer-" + i), Ct)).Token;
            }
            catch (BerthProblemException e) when (e.Status == HttpStatusCode.Unauthorized)
            {
                return null;
            }
        }).ToList();
        await Admin.RevokeTokenAsync(parent.Info.Id, Ct);
        var created = (await Task.WhenAll(creations)).OfType<string>().ToArray();
        await AssertRevokedAsync(created);
    }

    private async Task AssertRevokedAsync(params string[] tokens)
    {
        foreach (var token in tokens)
        {
            using var client = Server.NewClient(token);
            var error = await Assert.ThrowsAsync<BerthProblemException>(() => client.WhoAmIAsync(Ct));
            Assert.Equal((HttpStatusCode.Unauthorized, "token_revoked"), (error.Status, error.Code));
        }
    }

    private async Task AssertWorksAsync(params string[] tokens)
    {
        foreach (var token in tokens)
        {
            using var client = Server.NewClient(token);
            Assert.False((await client.WhoAmIAsync(Ct)).Anonymous);
        }
    }
}
