using System.Net;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Contracts.Dtos;
using Berth.Core.Data;
using Berth.Core.Maintenance;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Api.Tests;

/// <summary>
/// Password guessing is slowed down per client address and account, per address and per account, with growing
/// waits, and never by locking the account (docs/governance.md). The clients connect from several loopback
/// addresses; the server's clock is a fake one, so waits are exact and pass only when the test moves the clock.
/// </summary>
public sealed class SignInThrottleTests
{
    private const string Password = "the real password";
    private const string SetupAddress = "127.0.0.100";
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AGuesserIsSlowedDownWhileTheRealUserSignsInFromAnotherAddress()
    {
        await using var server = await StartAsync();
        await CreateUserAsync(server, "victim");
        using var attacker = server.NewHttpFrom("127.0.0.2");
        for (var i = 1; i <= 6; i++)
        {
            Assert.Equal((HttpStatusCode.Unauthorized, "sign_in_failed"), (await SignInAsync(attacker, "victim", "guess number " + i)).Result);
        }

        // Past five failures the attacker's next attempt waits, even with the right password: it is not checked.
        var waiting = await SignInAsync(attacker, "victim", Password);
        Assert.Equal((HttpStatusCode.TooManyRequests, "too_many_attempts"), waiting.Result);
        Assert.Equal(TimeSpan.FromSeconds(1), waiting.RetryAfter);
        Assert.Equal(1, waiting.Body.GetProperty("retryAfter").GetInt32());

        using var user = server.NewHttpFrom("127.0.0.3");
        Assert.Equal(HttpStatusCode.Created, (await SignInAsync(user, "victim", Password)).Status);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(attacker, "victim", "guess number 7")).Status);
        Assert.Equal(TimeSpan.FromSeconds(2), (await SignInAsync(attacker, "victim", Password)).RetryAfter);
    }

    [Fact]
    public async Task EachFurtherFailureDoublesTheWaitUpToTheLongest()
    {
        await using var server = await StartAsync("--SignIn:MaxDelay", "00:00:08");
        await CreateUserAsync(server, "grower");
        using var attacker = server.NewHttpFrom("127.0.0.2");
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(attacker, "grower", "free guess " + i)).Status);
        }

        var waits = new List<int>();
        for (var i = 1; i <= 6; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(attacker, "grower", "paid guess " + i)).Status);
            var refused = await SignInAsync(attacker, "grower", "too early");
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
            waits.Add((int)refused.RetryAfter!.Value.TotalSeconds);
            _clock.Advance(refused.RetryAfter.Value);
        }

        Assert.Equal([1, 2, 4, 8, 8, 8], waits);
    }

    [Fact]
    public async Task ASuccessfulSignInStartsTheCountAgain()
    {
        await using var server = await StartAsync();
        await CreateUserAsync(server, "typo-prone");
        using var user = server.NewHttpFrom("127.0.0.2");
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(user, "typo-prone", "typo " + i)).Status);
        }

        Assert.Equal(HttpStatusCode.Created, (await SignInAsync(user, "typo-prone", Password)).Status);
        for (var i = 1; i <= 6; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(user, "typo-prone", "another typo " + i)).Status);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(user, "typo-prone", Password)).Status);
    }

    [Fact]
    public async Task UnknownUsersAreAnsweredExactlyLikeKnownOnes()
    {
        await using var server = await StartAsync();
        await CreateUserAsync(server, "known-user");
        using var toKnown = server.NewHttpFrom("127.0.0.2");
        using var toUnknown = server.NewHttpFrom("127.0.0.3");
        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 8; i++)
        {
            var known = await SignInAsync(toKnown, "known-user", "wrong password " + i);
            var unknown = await SignInAsync(toUnknown, "nobody-of-that-name", "wrong password " + i);
            Assert.Equal(known.Status, unknown.Status);
            Assert.Equal(known.Shape, unknown.Shape);
            Assert.Equal(known.RetryAfter, unknown.RetryAfter);
            statuses.Add(known.Status);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 6), HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);

        // A disabled user's right password is just as wrong.
        await server.Client.UpdateUserAsync("known-user", new UpdateUserRequest(Disabled: true), Ct);
        using var fresh = server.NewHttpFrom("127.0.0.4");
        var disabled = await SignInAsync(fresh, "known-user", Password);
        var nobody = await SignInAsync(fresh, "nobody-of-that-name", Password);
        Assert.Equal((disabled.Status, disabled.Shape), (nobody.Status, nobody.Shape));
    }

    [Fact]
    public async Task PasswordSprayingFromOneAddressIsSlowedDownForEveryAccount()
    {
        await using var server = await StartAsync("--SignIn:AddressFreeFailures", "3");
        await CreateUserAsync(server, "sprayed");
        using var sprayer = server.NewHttpFrom("127.0.0.2");
        for (var i = 1; i <= 4; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(sprayer, "account-" + i, "Summer2026!")).Status);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(sprayer, "sprayed", Password)).Status);
        using var elsewhere = server.NewHttpFrom("127.0.0.3");
        Assert.Equal(HttpStatusCode.Created, (await SignInAsync(elsewhere, "sprayed", Password)).Status);
    }

    [Fact]
    public async Task GuessingFromManyAddressesIsSlowedDownButNotWhereTheUserSignedInBefore()
    {
        await using var server = await StartAsync("--SignIn:AccountFreeFailures", "3");
        await CreateUserAsync(server, "distributed");
        for (var i = 2; i <= 5; i++)
        {
            using var bot = server.NewHttpFrom($"127.0.0.{i}");
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(bot, "distributed", "bot guess " + i)).Status);
        }

        using var newPlace = server.NewHttpFrom("127.0.0.6");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(newPlace, "distributed", Password)).Status);
        using var usualPlace = server.NewHttpFrom(SetupAddress);
        Assert.Equal(HttpStatusCode.Created, (await SignInAsync(usualPlace, "distributed", Password)).Status);
    }

    [Fact]
    public async Task WrongCurrentPasswordsCountLikeFailedSignIns()
    {
        await using var server = await StartAsync();
        await CreateUserAsync(server, "changer");
        using var anonymous = server.NewHttpFrom("127.0.0.2");
        var session = (await SignInAsync(anonymous, "changer", Password)).Body.GetProperty("session").GetProperty("token").GetString()!;
        using var signedIn = server.NewHttpFrom("127.0.0.2", session);
        for (var i = 1; i <= 6; i++)
        {
            using var wrong = await ChangePasswordAsync(signedIn, "not my password " + i, "a new password");
            await wrong.AssertProblemAsync(HttpStatusCode.Unauthorized, "sign_in_failed");
        }

        using var waiting = await ChangePasswordAsync(signedIn, Password, "a new password");
        await waiting.AssertProblemAsync(HttpStatusCode.TooManyRequests, "too_many_attempts");
        Assert.Equal(TimeSpan.FromSeconds(1), waiting.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(anonymous, "changer", Password)).Status);

        _clock.Advance(TimeSpan.FromSeconds(1));
        using var changed = await ChangePasswordAsync(signedIn, Password, "a new password");
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
    }

    [Fact]
    public async Task CountsAreSharedByReplicas()
    {
        await using var first = await StartAsync();
        await using var second = await TestServer.StartReplicaAsync(first, services => services.AddSingleton<TimeProvider>(_clock));
        await CreateUserAsync(first, "replicated");
        using var toFirst = first.NewHttpFrom("127.0.0.2");
        for (var i = 1; i <= 6; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(toFirst, "replicated", "guess " + i)).Status);
        }

        using var toSecond = second.NewHttpFrom("127.0.0.2");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(toSecond, "replicated", Password)).Status);
    }

    [Fact]
    public async Task BehindAProxyTheForwardedClientAddressIsCounted()
    {
        await using var server = await StartAsync("--ForwardedHeaders_Enabled", "true");
        await CreateUserAsync(server, "proxied");
        using var proxy = server.NewHttp(null);
        for (var i = 1; i <= 6; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(proxy, "proxied", "guess " + i, forwardedFor: "203.0.113.7")).Status);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignInAsync(proxy, "proxied", Password, forwardedFor: "203.0.113.7")).Status);
        Assert.Equal(HttpStatusCode.Created, (await SignInAsync(proxy, "proxied", Password, forwardedFor: "203.0.113.8")).Status);
        var signIns = await server.Client.ListAuditAsync(cancellationToken: Ct).Where(e => e.Action == "user.sign_in" && e.Target == "user proxied").ToListAsync(Ct);
        Assert.Equal("203.0.113.8", signIns[^1].ClientAddress);
    }

    [Fact]
    public async Task MaintenanceRemovesCountsWithNothingLeftToRemember()
    {
        await using var server = await StartAsync("--SignIn:FailureWindow", "00:01:00", "--SignIn:KnownAddressTrust", "00:03:00");
        await CreateUserAsync(server, "pruned");
        using var guesser = server.NewHttpFrom("127.0.0.2");
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(guesser, "pruned", "one guess")).Status);
        Assert.Equal(5, await CountRowsAsync(server));

        var maintenance = server.Services.GetRequiredService<MaintenanceService>();
        _clock.Advance(TimeSpan.FromMinutes(2));
        await maintenance.RunOnceAsync(Ct);
        // Only the address where the user signed in is still remembered (it is exempt from the wide counts).
        Assert.Equal(1, await CountRowsAsync(server));
        _clock.Advance(TimeSpan.FromMinutes(2));
        await maintenance.RunOnceAsync(Ct);
        Assert.Equal(0, await CountRowsAsync(server));
    }

    private Task<TestServer> StartAsync(params string[] settings) =>
        TestServer.StartAsync(services => services.AddSingleton<TimeProvider>(_clock), settings);

    /// <summary>A user whose password is <see cref="Password"/>, set at a first sign-in from <see cref="SetupAddress"/>.</summary>
    private static async Task CreateUserAsync(TestServer server, string name)
    {
        var created = await server.Client.CreateUserAsync(new CreateUserRequest(name), Ct);
        using var http = server.NewHttpFrom(SetupAddress);
        Assert.Equal(HttpStatusCode.Created, (await SignInAsync(http, name, created.OneTimePassword, Password)).Status);
    }

    private static async Task<Answer> SignInAsync(HttpClient http, string user, string password, string? newPassword = null, string? forwardedFor = null)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, string?> { ["user"] = user, ["password"] = password, ["newPassword"] = newPassword });
        using var response = forwardedFor is null
            ? await http.SendJsonAsync(HttpMethod.Post, "/api/v1/sessions", body, Ct)
            : await http.SendJsonAsync(HttpMethod.Post, "/api/v1/sessions", body, Ct, ("X-Forwarded-For", forwardedFor));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return new Answer(response.StatusCode, document.RootElement.Clone(), response.Headers.RetryAfter?.Delta);
    }

    private static async Task<HttpResponseMessage> ChangePasswordAsync(HttpClient http, string current, string next) =>
        await http.SendJsonAsync(HttpMethod.Put, "/api/v1/whoami/password",
            JsonSerializer.Serialize(new Dictionary<string, string> { ["currentPassword"] = current, ["newPassword"] = next }), Ct);

    private static async Task<int> CountRowsAsync(TestServer server)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().SignInThrottles.CountAsync(Ct);
    }

    private sealed record Answer(HttpStatusCode Status, JsonElement Body, TimeSpan? RetryAfter)
    {
        public (HttpStatusCode, string?) Result => (Status, Body.TryGetProperty("code", out var code) ? code.GetString() : null);

        /// <summary>The answer's members and values, without the id of the request.</summary>
        public string Shape => string.Join('\n', Body.EnumerateObject().Where(p => p.Name != "requestId").Select(p => $"{p.Name}={p.Value.GetRawText()}"));
    }
}
