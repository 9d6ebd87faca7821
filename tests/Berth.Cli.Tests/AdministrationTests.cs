using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// Managing users, passwords, teams, namespace roles, model policies and protected aliases from the CLI.
/// Names start with <c>adm</c>: the server is shared with the other tests.
/// </summary>
public sealed partial class AdministrationTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task UsersAreChangedResetAndChangeTheirOwnPasswords()
    {
        using var admin = new CliUser();
        await admin.LoginAsync(Server);
        var oneTime = (await admin.RunAsync("user", "add", "adm-dave", "--json")).Succeeded().Json.GetProperty("oneTimePassword").GetString()!;
        Assert.Contains("adm-dave", (await admin.RunAsync("user", "ls")).Succeeded().Stdout, StringComparison.Ordinal);
        Assert.Contains((await admin.RunAsync("user", "ls", "--json")).Succeeded().Json.EnumerateArray(), u => u.GetProperty("name").GetString() == "adm-dave");

        var changed = (await admin.RunAsync("user", "set", "adm-dave", "--email", "dave@acme.io", "--display-name", "Dave D", "--admin", "true", "--json")).Succeeded().Json;
        Assert.Equal("dave@acme.io", changed.GetProperty("email").GetString());
        Assert.Equal("Dave D", changed.GetProperty("displayName").GetString());
        Assert.True(changed.GetProperty("isAdmin").GetBoolean());
        Assert.False((await admin.RunAsync("user", "set", "adm-dave", "--admin", "false", "--json")).Succeeded().Json.GetProperty("isAdmin").GetBoolean());
        var shown = (await admin.RunAsync("user", "show", "adm-dave")).Succeeded().Stdout;
        Assert.Matches(@"(?m)^\s+email:\s+dave@acme\.io$", shown);
        Assert.Matches(@"(?m)^\s+password:\s+one-time", shown);

        // Sign in (replacing the one-time password), then change it with passwd: only the newest one works.
        using var dave = new CliUser();
        (await dave.RunWithInputAsync($"{oneTime}\nfirst-password\n", "login", Server.Url, "--user", "adm-dave", "--password-stdin")).Succeeded();
        var passwd = (await dave.RunWithInputAsync("first-password\nsecond-password\n", "passwd", "--password-stdin", "--json")).Succeeded().Json;
        Assert.True(passwd.GetProperty("changed").GetBoolean());
        (await dave.RunWithInputAsync("first-password\n", "login", Server.Url, "--user", "adm-dave", "--password-stdin")).Failed(1, "(sign_in_failed)");
        (await dave.RunWithInputAsync("wrong\nthird-password\n", "passwd", "--password-stdin")).Failed(1, "(sign_in_failed)");
        (await dave.RunWithInputAsync("second-password\nshort\n", "passwd", "--password-stdin")).Failed(1, "(weak_password)");
        var relogin = (await dave.RunWithInputAsync("second-password\n", "login", Server.Url, "--user", "adm-dave", "--password-stdin")).Succeeded().Stdout;
        Assert.DoesNotContain("one-time", relogin, StringComparison.Ordinal);

        // A reset gives a new one-time password: signing in with it needs a new password on the next line.
        var reset = (await admin.RunAsync("user", "reset", "adm-dave")).Succeeded().Stdout;
        var newOneTime = IndentedSecret().Match(reset).Groups[1].Value;
        Assert.NotEmpty(newOneTime);
        Assert.True((await admin.RunAsync("user", "show", "adm-dave", "--json")).Succeeded().Json.GetProperty("mustChangePassword").GetBoolean());
        (await dave.RunWithInputAsync(newOneTime + "\n", "login", Server.Url, "--user", "adm-dave", "--password-stdin")).Failed(2, "on line 2 of stdin");
        (await dave.RunWithInputAsync($"{newOneTime}\nfourth-password\n", "login", Server.Url, "--user", "adm-dave", "--password-stdin")).Succeeded();
        (await admin.RunAsync("user", "show", "adm-nobody")).Failed(1, "(user_not_found)");
    }

    [Fact]
    public async Task UsersCreateOnlyTheirPersonalNamespaceAndAreToldTheSetting()
    {
        using var admin = new CliUser();
        using var model = new ModelFolder(("weights.bin", 100));
        await admin.LoginAsync(Server);
        var oneTime = (await admin.RunAsync("user", "add", "adm-nina", "--json")).Succeeded().Json.GetProperty("oneTimePassword").GetString()!;
        using var nina = new CliUser();
        (await nina.RunWithInputAsync($"{oneTime}\nninas password\n", "login", Server.Url, "--user", "adm-nina", "--password-stdin")).Succeeded();

        (await nina.RunAsync("push", model.Root, "adm-nina/model")).Succeeded();
        var refused = (await nina.RunAsync("push", model.Root, "adm-ninas-team/model")).Failed(1, "(namespace_not_found)").Stderr;
        Assert.Contains("Registry:NamespaceCreation=Personal", refused, StringComparison.Ordinal);

        (await admin.RunAsync("push", model.Root, "adm-ninas-team/model")).Succeeded();
        (await admin.RunAsync("member", "add", "adm-ninas-team", "adm-nina", "writer")).Succeeded();
        (await nina.RunAsync("push", model.Root, "adm-ninas-team/model")).Succeeded();
    }

    [Fact]
    public async Task TeamsAndUsersHoldRolesInANamespaceUntilTheyAreTakenAway()
    {
        using var admin = new CliUser();
        using var model = new ModelFolder(("weights.bin", 100));
        await admin.LoginAsync(Server);
        (await admin.RunAsync("push", model.Root, "adm-roles/model")).Succeeded();
        (await admin.RunAsync("user", "add", "adm-erin")).Succeeded();

        var team = (await admin.RunAsync("team", "add", "adm-team", "--description", "Reviews models", "--group", "adm-oidc-group", "--json")).Succeeded().Json;
        Assert.Equal("adm-oidc-group", team.GetProperty("externalGroup").GetString());
        (await admin.RunAsync("team", "member", "add", "adm-team", "adm-erin")).Succeeded();
        Assert.Matches(@"(?m)^adm-team\s+adm-erin\s+adm-oidc-group\s+Reviews models$", (await admin.RunAsync("team", "ls")).Succeeded().Stdout);
        Assert.Contains("adm-erin", (await admin.RunAsync("team", "show", "adm-team")).Succeeded().Stdout, StringComparison.Ordinal);
        Assert.Equal(["adm-team"], Strings((await admin.RunAsync("user", "show", "adm-erin", "--json")).Succeeded().Json.GetProperty("teams")));

        (await admin.RunAsync("member", "add", "adm-roles", "--team", "adm-team", "reader")).Succeeded();
        (await admin.RunAsync("member", "add", "adm-roles", "adm-erin", "writer")).Succeeded();
        Assert.Equal("approver", (await admin.RunAsync("member", "add", "adm-roles", "adm-erin", "approver", "--json")).Succeeded().Json.GetProperty("role").GetString());
        Assert.Equal(["team adm-team=reader", "user adm-erin=approver", "user admin=admin"], await MembersAsync(admin, "adm-roles"));
        Assert.Matches(@"(?m)^team adm-team\s+reader\s", (await admin.RunAsync("member", "ls", "adm-roles")).Succeeded().Stdout);

        var removed = (await admin.RunAsync("member", "rm", "adm-roles", "--team", "adm-team", "--json")).Succeeded().Json;
        Assert.Equal("adm-team", removed.GetProperty("team").GetString());
        Assert.True(removed.GetProperty("removed").GetBoolean());
        (await admin.RunAsync("member", "rm", "adm-roles", "adm-erin")).Succeeded();
        Assert.Equal(["user admin=admin"], await MembersAsync(admin, "adm-roles"));
        (await admin.RunAsync("member", "rm", "adm-roles", "adm-erin")).Failed(1, "(member_not_found)");
        (await admin.RunAsync("member", "add", "adm-roles", "adm-nobody", "reader")).Failed(1, "(user_not_found)");

        Assert.Empty((await admin.RunAsync("team", "member", "rm", "adm-team", "adm-erin", "--json")).Succeeded().Json.GetProperty("members").EnumerateArray());
        (await admin.RunAsync("team", "rm", "adm-team")).Succeeded();
        (await admin.RunAsync("team", "show", "adm-team")).Failed(1, "(team_not_found)");
    }

    [Fact]
    public async Task AModelOverridesItsNamespacesPolicyUntilItIsReset()
    {
        using var admin = new CliUser();
        using var model = new ModelFolder(("weights.bin", 100));
        await admin.LoginAsync(Server);
        (await admin.RunAsync("push", model.Root, "adm-policy/model", "--metric", "auc=0.7")).Succeeded();

        var own = (await admin.RunAsync("policy", "set", "adm-policy/model", "shadow", "--position", "2", "--json")).Succeeded().Json;
        Assert.False(own.GetProperty("inherited").GetBoolean());
        Assert.Equal(["development", "staging", "shadow", "production", "archived"], StageNames(own));
        Assert.DoesNotContain("shadow", StageNames((await admin.RunAsync("policy", "show", "adm-policy", "--json")).Succeeded().Json));
        Assert.Contains("(its own)", (await admin.RunAsync("policy", "show", "adm-policy/model")).Succeeded().Stdout, StringComparison.Ordinal);

        // Options left out keep their value; --no-exclusive and --no-gate clear theirs.
        (await admin.RunAsync("policy", "set", "adm-policy/model", "shadow", "--exclusive", "--approvals", "1", "--gate", "metrics.auc >= 0.5")).Succeeded();
        var cleared = Stage((await admin.RunAsync("policy", "set", "adm-policy/model", "shadow", "--no-exclusive", "--no-gate", "--json")).Succeeded().Json, "shadow");
        Assert.False(cleared.GetProperty("exclusive").GetBoolean());
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("gate").ValueKind);
        Assert.Equal(1, cleared.GetProperty("requiredApprovals").GetInt32());

        Assert.DoesNotContain("shadow", StageNames((await admin.RunAsync("policy", "rm", "adm-policy/model", "shadow", "--json")).Succeeded().Json));
        (await admin.RunAsync("policy", "rm", "adm-policy/model", "shadow")).Failed(1, "(stage_not_found)");
        Assert.True((await admin.RunAsync("policy", "reset", "adm-policy/model", "--json")).Succeeded().Json.GetProperty("inherited").GetBoolean());
        Assert.Contains("inherited from adm-policy", (await admin.RunAsync("policy", "show", "adm-policy/model")).Succeeded().Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AProtectedAliasIsMarkedAndMovesAtOnceWhenUnprotected()
    {
        using var admin = new CliUser();
        using var model = new ModelFolder(("weights.bin", 100));
        await admin.LoginAsync(Server);
        (await admin.RunAsync("push", model.Root, "adm-alias/model")).Succeeded();
        (await admin.RunAsync("alias", "protect", "adm-alias/model", "champion", "--approvals", "2")).Succeeded();
        Assert.Matches(@"(?m)^champion\s+-\s+yes \(2 approvals\)$", (await admin.RunAsync("alias", "ls", "adm-alias/model")).Succeeded().Stdout);

        var requested = (await admin.RunAsync("alias", "set", "adm-alias/model:1", "champion", "--json")).Succeeded().Json;
        Assert.Equal("requested", requested.GetProperty("outcome").GetString());
        var id = requested.GetProperty("request").GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("cancelled", (await admin.RunAsync("cancel", id, "--comment", "not yet", "--json")).Succeeded().Json.GetProperty("state").GetString());
        Assert.Contains("cancelled (not yet)", (await admin.RunAsync("request", "show", id)).Succeeded().Stdout, StringComparison.Ordinal);

        Assert.False((await admin.RunAsync("alias", "unprotect", "adm-alias/model", "champion", "--json")).Succeeded().Json.GetProperty("protected").GetBoolean());
        Assert.Equal("applied", (await admin.RunAsync("alias", "set", "adm-alias/model:1", "champion", "--json")).Succeeded().Json.GetProperty("outcome").GetString());
        Assert.Matches(@"(?m)^champion\s+1\s+.*\s-$", (await admin.RunAsync("alias", "ls", "adm-alias/model")).Succeeded().Stdout);
    }

    private static async Task<List<string>> MembersAsync(CliUser admin, string ns) =>
        (await admin.RunAsync("member", "ls", ns, "--json")).Succeeded().Json.EnumerateArray()
            .Select(m => (m.GetProperty("user").GetString() is { } user ? $"user {user}" : $"team {m.GetProperty("team").GetString()}") + "=" + m.GetProperty("role").GetString())
            .Order(StringComparer.Ordinal)
            .ToList();

    private static List<string> StageNames(JsonElement policy) =>
        policy.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("stage").GetString()!).ToList();

    private static JsonElement Stage(JsonElement policy, string stage) =>
        policy.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == stage);

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();

    [GeneratedRegex(@"(?m)^    (\S+)$")]
    private static partial Regex IndentedSecret();
}
