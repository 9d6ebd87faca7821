using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// The governance scenario of the issue, through the CLI as people type it: users with one-time passwords,
/// namespace roles, a stage policy with approvals and a gate, a protected alias, requests and their reviews,
/// history with time travel, and a disabled user. It runs on its own server, so that its users and its
/// namespace <c>acme</c> are exactly those of the issue.
/// </summary>
public sealed partial class GovernanceTests(ServerFixture fixture)
{
    private const string ProductionGate = "metrics.auc >= 0.92 and tags.validated = \"true\"";

    [Fact]
    public async Task APromotionIsRequestedReviewedAppliedAndRemembered()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await ServerProcess.StartAsync(cancellationToken);
        using var admin = new CliUser();
        using var model = new ModelFolder(("weights.bin", 2000));
        await admin.LoginAsync(server);

        // The administrator adds three users; each one-time password is shown once.
        var created = (await admin.RunAsync("user", "add", "alice", "--email", "alice@acme.io", "--display-name", "Alice L", "--json")).Succeeded().Json;
        Assert.Equal("alice@acme.io", created.GetProperty("user").GetProperty("email").GetString());
        Assert.True(created.GetProperty("user").GetProperty("mustChangePassword").GetBoolean());
        var aliceOneTime = created.GetProperty("oneTimePassword").GetString()!;
        var bobOneTime = OneTimePassword((await admin.RunAsync("user", "add", "bob")).Succeeded().Stdout);
        var carolOneTime = OneTimePassword((await admin.RunAsync("user", "add", "carol", "--display-name", "Carol")).Succeeded().Stdout);

        // Each signs in with the one-time password and replaces it; the one-time password then stops working.
        using var alice = await SignInAsync(server, "alice", aliceOneTime, "alice-secret-1");
        using var bob = await SignInAsync(server, "bob", bobOneTime, "bob-secret-1");
        using var carol = await SignInAsync(server, "carol", carolOneTime, "carol-secret-1");
        using (var again = new CliUser())
        {
            (await again.RunWithInputAsync(aliceOneTime + "\n", "login", server.Url, "--user", "alice", "--password-stdin")).Failed(1, "(sign_in_failed)");
        }

        // The administrator mints a token for alice.
        var minted = (await admin.RunAsync("token", "create", "--user", "alice", "--name", "laptop", "--json")).Succeeded().Json;
        Assert.Equal("alice", minted.GetProperty("info").GetProperty("user").GetString());
        using var laptop = new CliUser();
        laptop.Environment["BERTH_URL"] = server.Url;
        laptop.Environment["BERTH_TOKEN"] = minted.GetProperty("token").GetString();
        var me = (await laptop.RunAsync("whoami", "--json")).Succeeded().Json;
        Assert.Equal("alice", me.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal("laptop", me.GetProperty("token").GetProperty("name").GetString());

        // Version 1 reaches production before there is a policy; the push creates the namespace.
        (await admin.RunAsync("push", model.Root, "acme/fraud", "--metric", "auc=0.90")).Succeeded();
        (await admin.RunAsync("stage", "acme/fraud:1", "production")).Succeeded();

        // Roles: alice writes, bob approves, carol approves through her team.
        Assert.Equal("writer", (await admin.RunAsync("member", "add", "acme", "alice", "writer", "--json")).Succeeded().Json.GetProperty("role").GetString());
        Assert.Contains("User bob is an approver in acme.", (await admin.RunAsync("member", "add", "acme", "bob", "approver")).Succeeded().Stdout, StringComparison.Ordinal);
        (await admin.RunAsync("team", "add", "ml-platform", "--description", "Owns the fraud models")).Succeeded();
        Assert.Equal(["carol"], Strings((await admin.RunAsync("team", "member", "add", "ml-platform", "carol", "--json")).Succeeded().Json.GetProperty("members")));
        var teamRole = (await admin.RunAsync("member", "add", "acme", "--team", "ml-platform", "approver", "--json")).Succeeded().Json;
        Assert.Equal("ml-platform", teamRole.GetProperty("team").GetString());
        var members = (await admin.RunAsync("member", "ls", "acme", "--json")).Succeeded().Json.EnumerateArray()
            .Select(m => $"{m.GetProperty("user").GetString() ?? "team " + m.GetProperty("team").GetString()}={m.GetProperty("role").GetString()}").ToList();
        Assert.Equal(["admin=admin", "alice=writer", "bob=approver", "team ml-platform=approver"], members.Order(StringComparer.Ordinal));

        // The policy: production is exclusive, needs two approvals and passes a gate; staging has a gate of its own.
        var policy = (await admin.RunAsync("policy", "set", "acme", "production", "--exclusive", "--approvals", "2", "--gate", ProductionGate, "--json")).Succeeded().Json;
        var production = policy.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "production");
        Assert.True(production.GetProperty("exclusive").GetBoolean());
        Assert.Equal(2, production.GetProperty("requiredApprovals").GetInt32());
        Assert.Equal(ProductionGate, production.GetProperty("gate").GetString());
        (await admin.RunAsync("policy", "set", "acme", "staging", "--gate", "metrics.auc >= 0.9")).Succeeded();
        var invalid = await admin.RunAsync("policy", "set", "acme", "staging", "--gate", "metrics.auc >= and");
        invalid.Failed(1, "(invalid_filter)");
        Assert.Contains("position 15", invalid.Stderr, StringComparison.Ordinal);
        Assert.Contains("\n  metrics.auc >= and\n  " + new string(' ', 15) + "^", invalid.Stderr, StringComparison.Ordinal);
        var shown = (await alice.RunAsync("policy", "show", "acme/fraud")).Succeeded().Stdout;
        Assert.Contains("inherited from acme", shown, StringComparison.Ordinal);
        Assert.Contains(ProductionGate, shown, StringComparison.Ordinal);
        Assert.Equal(1, (await admin.RunAsync("alias", "protect", "acme/fraud", "champion", "--approvals", "1", "--json")).Succeeded().Json.GetProperty("requiredApprovals").GetInt32());

        // alice pushes version 2 (retrained: new weights); staging applies at once (its gate passes), production becomes a request.
        model.Write("weights.bin", 2000, seed: 2);
        (await alice.RunAsync("push", model.Root, "acme/fraud", "--metric", "auc=0.95", "--tag", "validated=true")).Succeeded();
        Assert.Contains("is now in stage staging", (await alice.RunAsync("stage", "acme/fraud:2", "staging")).Succeeded().Stdout, StringComparison.Ordinal);
        var staged = (await alice.RunAsync("stage", "acme/fraud:2", "production", "--comment", "beats v1 on the holdout")).Succeeded().Stdout;
        Assert.Contains("needs 2 approval(s)", staged, StringComparison.Ordinal);
        Assert.Contains("gate passed: metrics.auc >= 0.92 (actual 0.95)", staged, StringComparison.Ordinal);
        var promotion = RequestId(staged);

        var open = (await bob.RunAsync("requests", "acme")).Succeeded().Stdout;
        Assert.Matches($@"(?m)^{promotion}\s+acme/fraud:2\s+stage production\s+alice\s+\d+[smhd]\s+0/2\s+gate passed", open);
        var listed = Assert.Single((await bob.RunAsync("requests", "acme", "--json")).Succeeded().Json.EnumerateArray());
        Assert.Equal(promotion, listed.GetProperty("id").GetInt64());
        Assert.Equal("open", listed.GetProperty("state").GetString());

        // alice may not review (she is a writer); bob may not approve his own request.
        (await alice.RunAsync("approve", Id(promotion))).Failed(1, "(forbidden)");
        var aliasMove = RequestId((await bob.RunAsync("alias", "set", "acme/fraud:2", "champion")).Succeeded().Stdout);
        (await bob.RunAsync("approve", Id(aliasMove))).Failed(1, "(self_approval)");
        Assert.Equal("applied", (await carol.RunAsync("approve", Id(aliasMove), "--json")).Succeeded().Json.GetProperty("state").GetString());
        Assert.Equal(2, (await alice.RunAsync("show", "acme/fraud:champion", "--json")).Succeeded().Json.GetProperty("number").GetInt32());

        // Two approvals: bob's first leaves the request open, his second is refused, carol's applies it.
        var first = (await bob.RunAsync("approve", Id(promotion), "--comment", "metrics look right", "--json")).Succeeded().Json;
        Assert.Equal("open", first.GetProperty("state").GetString());
        Assert.Equal(1, first.GetProperty("approvals").GetInt32());
        (await bob.RunAsync("approve", Id(promotion))).Failed(1, "(already_reviewed)");
        var applied = (await carol.RunAsync("approve", Id(promotion), "--comment", "ship it")).Succeeded().Stdout;
        Assert.Contains($"Approved request #{promotion}: applied", applied, StringComparison.Ordinal);
        Assert.Contains("acme/fraud:2 is now in stage production", applied, StringComparison.Ordinal);
        Assert.Equal(2, (await alice.RunAsync("show", "acme/fraud:production", "--json")).Succeeded().Json.GetProperty("number").GetInt32());
        Assert.Equal("archived", (await alice.RunAsync("show", "acme/fraud:1", "--json")).Succeeded().Json.GetProperty("stage").GetString());

        // Version 3: bob rejects its promotion with a reason; a second attempt is withdrawn by alice.
        model.Write("weights.bin", 2000, seed: 3);
        (await alice.RunAsync("push", model.Root, "acme/fraud", "--metric", "auc=0.96", "--tag", "validated=true")).Succeeded();
        var rejected = RequestId((await alice.RunAsync("stage", "acme/fraud:3", "production")).Succeeded().Stdout);
        Assert.Equal("rejected", (await bob.RunAsync("reject", Id(rejected), "--comment", "wait for the A/B test", "--json")).Succeeded().Json.GetProperty("state").GetString());
        var rejection = (await alice.RunAsync("request", "show", Id(rejected))).Succeeded().Stdout;
        Assert.Contains("rejected (wait for the A/B test)", rejection, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\s+bob\s+reject\s+.*wait for the A/B test$", rejection);
        var withdrawn = RequestId((await alice.RunAsync("stage", "acme/fraud:3", "production")).Succeeded().Stdout);
        Assert.Contains($"Cancelled request #{withdrawn}", (await alice.RunAsync("cancel", Id(withdrawn))).Succeeded().Stdout, StringComparison.Ordinal);
        Assert.Equal($"No open requests in acme.{Environment.NewLine}", (await alice.RunAsync("requests", "acme")).Succeeded().Stdout);
        var all = (await alice.RunAsync("requests", "acme", "--state", "all", "--json")).Succeeded().Json.EnumerateArray()
            .ToDictionary(r => r.GetProperty("id").GetInt64(), r => r.GetProperty("state").GetString());
        Assert.Equal(new Dictionary<long, string?> { [promotion] = "applied", [aliasMove] = "applied", [rejected] = "rejected", [withdrawn] = "cancelled" }, all);

        // A version below the gate is refused, naming the failing condition and the actual value.
        model.Write("weights.bin", 2000, seed: 4);
        (await alice.RunAsync("push", model.Root, "acme/fraud", "--metric", "auc=0.8", "--tag", "validated=true")).Succeeded();
        var refused = await alice.RunAsync("stage", "acme/fraud:4", "production");
        refused.Failed(1, "(gate_failed)");
        Assert.Contains("metrics.auc >= 0.92 is false (actual 0.8)", refused.Stderr, StringComparison.Ordinal);

        // History: stage changes, alias moves, requests and reviews, oldest first.
        var history = (await alice.RunAsync("history", "acme/fraud", "--json")).Succeeded().Json.EnumerateArray().ToList();
        Assert.Equal(history.Select(h => h.GetProperty("id").GetInt64()).Order(), history.Select(h => h.GetProperty("id").GetInt64()));
        AssertInOrder(history,
            ("version 1 enters production", h => IsStage(h, 1, null, "production")),
            ("version 2 enters staging", h => IsStage(h, 2, null, "staging")),
            ("the promotion is requested", h => IsRequest(h, promotion, "opened", "alice")),
            ("the alias move is requested", h => IsRequest(h, aliasMove, "opened", "bob")),
            ("carol approves the alias move", h => IsRequest(h, aliasMove, "approved", "carol")),
            ("champion moves to 2", h => h.GetProperty("kind").GetString() == "alias" && h.GetProperty("alias").GetString() == "champion" && h.GetProperty("version").GetInt32() == 2),
            ("bob approves the promotion", h => IsRequest(h, promotion, "approved", "bob")),
            ("carol approves the promotion", h => IsRequest(h, promotion, "approved", "carol")),
            ("version 1 is archived", h => IsStage(h, 1, "production", "archived")),
            ("version 2 enters production", h => IsStage(h, 2, "staging", "production")),
            ("the promotion is applied", h => IsRequest(h, promotion, "applied", null)),
            ("bob rejects version 3", h => IsRequest(h, rejected, "rejected", "bob")),
            ("alice withdraws version 3", h => IsRequest(h, withdrawn, "cancelled", "alice")));
        var table = (await alice.RunAsync("history", "acme/fraud")).Succeeded().Stdout;
        Assert.Contains($"request #{promotion} approved: stage production", table, StringComparison.Ordinal);
        Assert.Contains($"staging -> production (request #{promotion})", table, StringComparison.Ordinal);
        var productionOnly = (await alice.RunAsync("history", "acme/fraud", "--stage", "production", "--json")).Succeeded().Json.EnumerateArray().ToList();
        Assert.NotEmpty(productionOnly);
        Assert.All(productionOnly, h => Assert.True(h.GetProperty("fromStage").GetString() == "production" || h.GetProperty("toStage").GetString() == "production"));

        // Time travel: who held production before, between and after the promotion.
        var v1Entered = history.Single(h => IsStage(h, 1, null, "production")).GetProperty("at").GetDateTimeOffset();
        var v2Entered = history.Single(h => IsStage(h, 2, "staging", "production")).GetProperty("at").GetDateTimeOffset();
        Assert.True(v2Entered > v1Entered);
        Assert.Empty(await HoldersAsync(alice, "--stage", "production", v1Entered.AddTicks(-10)));
        Assert.Equal([1], await HoldersAsync(alice, "--stage", "production", v1Entered + ((v2Entered - v1Entered) / 2)));
        Assert.Equal([2], await HoldersAsync(alice, "--stage", "production", v2Entered));
        Assert.Equal([2], await HoldersAsync(alice, "--alias", "champion", v2Entered));
        var answer = (await alice.RunAsync("history", "acme/fraud", "--stage", "production", "--at", Iso(v1Entered + ((v2Entered - v1Entered) / 2)))).Succeeded().Stdout;
        Assert.Contains("acme/fraud:1 was in stage production.", answer, StringComparison.Ordinal);

        Assert.Contains("audit log verified: ", (await admin.RunAsync("audit", "verify")).Succeeded().Stdout, StringComparison.Ordinal);

        // Disabling alice stops her tokens at once; enabling her lets them work again.
        (await admin.RunAsync("user", "disable", "alice")).Succeeded();
        (await laptop.RunAsync("ls")).Failed(1, "(user_disabled)");
        (await alice.RunAsync("ls")).Failed(1, "(user_disabled)");
        Assert.Equal("disabled", Field((await admin.RunAsync("user", "show", "alice")).Succeeded().Stdout, "status"));
        (await admin.RunAsync("user", "enable", "alice")).Succeeded();
        Assert.Contains("acme", (await laptop.RunAsync("ls")).Succeeded().Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HistoryAtTakesTheNineFractionDigitsThatDatePrints()
    {
        using var user = new CliUser();
        using var model = new ModelFolder(("weights.bin", 100));
        user.Environment["BERTH_URL"] = fixture.Server.Url;
        user.Environment["BERTH_TOKEN"] = fixture.Server.AdminToken;
        (await user.RunAsync("push", model.Root, "nanos/fraud")).Succeeded();
        (await user.RunAsync("stage", "nanos/fraud:1", "production")).Succeeded();

        // As printed by `date -u +%Y-%m-%dT%H:%M:%S.%NZ`.
        var at = DateTime.UtcNow.AddMinutes(1).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + ".123456789Z";
        var holders = (await user.RunAsync("history", "nanos/fraud", "--stage", "production", "--at", at, "--json")).Succeeded().Json;

        Assert.Equal([1], holders.GetProperty("versions").EnumerateArray().Select(v => v.GetInt32()));
        Assert.InRange(holders.GetProperty("at").GetDateTimeOffset(), DateTimeOffset.Parse(at[..^3] + "Z", CultureInfo.InvariantCulture).AddMilliseconds(-1), DateTimeOffset.Parse(at[..^3] + "Z", CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("member", "add", "acme", "alice", "owner", "'owner' is not a role")]
    [InlineData("member", "add", "acme", "alice", "Name the user and the role")]
    [InlineData("member", "add", "acme", "--team", "ml-platform", "alice", "writer", "With --team, give only the role")]
    [InlineData("member", "rm", "acme", "alice", "--team", "ml-platform", "not both")]
    [InlineData("member", "ls", "Acme", "Invalid namespace 'Acme'")]
    [InlineData("policy", "set", "acme", "production", "--exclusive", "--no-exclusive", "--exclusive or --no-exclusive")]
    [InlineData("policy", "set", "acme", "production", "--gate", "metrics.auc > 1", "--no-gate", "--gate or --no-gate")]
    [InlineData("policy", "set", "acme", "production", "--approvals", "-1", "--approvals must be 0 or more")]
    [InlineData("policy", "set", "acme/fraud:3", "production", "takes a model (namespace/model), not a version")]
    [InlineData("policy", "rm", "acme", "prod!", "Invalid stage 'prod!'")]
    [InlineData("alias", "protect", "acme/fraud", "champion", "--approvals", "0", "--approvals must be 1 or more")]
    [InlineData("history", "acme/fraud", "--stage", "production", "--at", "2026-13-01", "expected an ISO 8601 date or date-time")]
    [InlineData("history", "acme/fraud", "--stage", "production", "--at", "yesterday", "expected an ISO 8601 date or date-time")]
    [InlineData("history", "acme/fraud", "--stage", "production", "--at", "2026-12-06T10:11:12.1234567890Z", "expected an ISO 8601 date or date-time")]
    [InlineData("history", "acme/fraud", "--at", "2026-03-01T12:00Z", "add --stage <stage> or --alias <alias>")]
    [InlineData("history", "acme/fraud", "--stage", "production", "--alias", "champion", "--stage or --alias, not both")]
    [InlineData("audit", "ls", "--since", "03/01/2026", "expected an ISO 8601 date or date-time")]
    [InlineData("audit", "export", "--since", "2026-03-02", "--until", "2026-03-01", "--until must be later than --since")]
    [InlineData("requests", "--state", "pending", "Argument 'pending' not recognized")]
    [InlineData("approve", "twelve", "twelve")]
    [InlineData("user", "set", "alice", "--admin", "maybe", "Argument 'maybe' not recognized")]
    [InlineData("user", "set", "alice", "Nothing to change")]
    [InlineData("token", "create", "--expires-in-days", "3", "--expires", "2030-01-01", "--expires-in-days or --expires")]
    [InlineData("token", "create", "--expires", "soon", "expected an ISO 8601 date or date-time")]
    [InlineData("login", "http://127.0.0.1:1", "--password-stdin", "name the user with --user")]
    [InlineData("login", "http://127.0.0.1:1", "--user", "alice", "--token", "berth_x", "not both")]
    [InlineData("login", "http://127.0.0.1:1", "--user", "alice", "no terminal to ask for a password")]
    public async Task AWrongGovernanceCommandLineIsAUsageError(params string[] argsAndMessage)
    {
        using var user = new CliUser();
        // A dead server: usage errors are found before anything is sent.
        user.Environment["BERTH_URL"] = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        user.Environment["BERTH_TOKEN"] = fixture.Server.AdminToken;
        (await user.RunAsync(argsAndMessage[..^1])).Failed(2, argsAndMessage[^1]);
    }

    /// <summary>Signs a new user in through the CLI, replacing the one-time password, and checks what the login reports.</summary>
    private static async Task<CliUser> SignInAsync(ServerProcess server, string name, string oneTimePassword, string newPassword)
    {
        var user = new CliUser();
        var login = (await user.RunWithInputAsync($"{oneTimePassword}\n{newPassword}\n", "login", server.Url, "--user", name, "--password-stdin")).Succeeded().Stdout;
        Assert.Contains($"Logged in to {server.Url} as {name}", login, StringComparison.Ordinal);
        Assert.Contains("changed (the one-time password no longer works)", login, StringComparison.Ordinal);
        Assert.Equal(name, (await user.RunAsync("whoami", "--json")).Succeeded().Json.GetProperty("user").GetProperty("name").GetString());
        return user;
    }

    private static async Task<List<int>> HoldersAsync(CliUser user, string option, string value, DateTimeOffset at)
    {
        var holders = (await user.RunAsync("history", "acme/fraud", option, value, "--at", Iso(at), "--json")).Succeeded().Json;
        return holders.GetProperty("versions").EnumerateArray().Select(v => v.GetInt32()).ToList();
    }

    /// <summary>Each step matches an entry after the one the previous step matched.</summary>
    private static void AssertInOrder(List<JsonElement> history, params (string Step, Func<JsonElement, bool> Matches)[] steps)
    {
        var from = 0;
        foreach (var (step, matches) in steps)
        {
            var index = history.FindIndex(from, h => matches(h));
            Assert.True(index >= 0, $"History has no entry for '{step}' after position {from}:\n{string.Join('\n', history.Select(h => h.GetRawText().ReplaceLineEndings(" ")))}");
            from = index + 1;
        }
    }

    private static bool IsStage(JsonElement h, int version, string? from, string to) =>
        h.GetProperty("kind").GetString() == "stage" && h.GetProperty("version").GetInt32() == version &&
        h.GetProperty("fromStage").GetString() == from && h.GetProperty("toStage").GetString() == to;

    private static bool IsRequest(JsonElement h, long id, string @event, string? actor) =>
        h.GetProperty("kind").GetString() == "request" && h.GetProperty("requestId").GetInt64() == id &&
        h.GetProperty("event").GetString() == @event && (actor is null || h.GetProperty("actor").GetString() == actor);

    private static long RequestId(string stdout) =>
        RequestOpened().Match(stdout) is { Success: true } match
            ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new Xunit.Sdk.XunitException($"No 'request #N opened' in:\n{stdout}");

    private static string OneTimePassword(string stdout) =>
        IndentedSecret().Match(stdout) is { Success: true } match ? match.Groups[1].Value : throw new Xunit.Sdk.XunitException($"No one-time password in:\n{stdout}");

    /// <summary>The value of a <c>key: value</c> line of human output.</summary>
    private static string Field(string stdout, string key) =>
        stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal)) is { } line
            ? line[(key.Length + 1)..].Trim()
            : throw new Xunit.Sdk.XunitException($"No '{key}:' line in:\n{stdout}");

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();

    [GeneratedRegex(@"request #(\d+) opened")]
    private static partial Regex RequestOpened();

    [GeneratedRegex(@"(?m)^    (\S+)$")]
    private static partial Regex IndentedSecret();
}
