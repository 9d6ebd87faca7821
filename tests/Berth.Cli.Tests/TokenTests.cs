using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

public sealed class TokenTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task ACreatedTokenWorksWithItsScopesUntilItIsRevoked()
    {
        using var admin = new CliUser();
        using var model = new ModelFolder(("weights.bin", 100));
        await admin.LoginAsync(Server);

        var created = (await admin.RunAsync("token", "create", "--name", "reader-laptop", "--scope", "read", "--expires-in-days", "30", "--json")).Succeeded().Json;
        var secret = created.GetProperty("token").GetString()!;
        var id = created.GetProperty("info").GetProperty("id").GetInt64();
        Assert.StartsWith("berth_", secret, StringComparison.Ordinal);
        Assert.Equal(["read"], created.GetProperty("info").GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!));
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, created.GetProperty("info").GetProperty("expiresAt").ValueKind);

        using var reader = new CliUser();
        (await reader.RunAsync("login", Server.Url, "--token", secret)).Succeeded();
        var me = (await reader.RunAsync("whoami", "--json")).Succeeded().Json;
        Assert.Equal("reader-laptop", me.GetProperty("token").GetProperty("name").GetString());
        (await reader.RunAsync("push", model.Root, "readonly/denied")).Failed(1, "(forbidden)");

        var listed = (await admin.RunAsync("token", "list", "--json")).Succeeded().Json;
        Assert.Contains(listed.EnumerateArray(), t => t.GetProperty("id").GetInt64() == id);
        Assert.Contains("reader-laptop", (await admin.RunAsync("token", "list")).Succeeded().Stdout, StringComparison.Ordinal);

        var revoked = (await admin.RunAsync("token", "revoke", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json")).Succeeded().Json;
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, revoked.GetProperty("revokedAt").ValueKind);
        (await reader.RunAsync("whoami")).Failed(1, "(token_revoked)");

        Assert.DoesNotContain((await admin.RunAsync("token", "list", "--json")).Succeeded().Json.EnumerateArray(), t => t.GetProperty("id").GetInt64() == id);
        Assert.Contains((await admin.RunAsync("token", "list", "--all", "--json")).Succeeded().Json.EnumerateArray(), t => t.GetProperty("id").GetInt64() == id);
    }

    [Fact]
    public async Task ATokenNeverOutlivesTheTokenThatCreatesItAndIsRevokedWithIt()
    {
        using var admin = new CliUser();
        await admin.LoginAsync(Server);
        var parent = (await admin.RunAsync("token", "create", "--name", "two-days", "--expires-in-days", "2", "--json")).Succeeded().Json;
        var parentId = parent.GetProperty("info").GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var parentExpiry = parent.GetProperty("info").GetProperty("expiresAt").GetDateTimeOffset();
        using var limited = new CliUser();
        (await limited.RunAsync("login", Server.Url, "--token", parent.GetProperty("token").GetString()!)).Succeeded();

        (await limited.RunAsync("token", "create", "--name", "longer", "--expires-in-days", "3")).Failed(1, "(token_expiry_too_late)");
        (await limited.RunAsync("token", "create", "--name", "much-longer", "--expires", "2099-01-01")).Failed(1, "at the latest");
        (await admin.RunAsync("token", "create", "--name", "too-long", "--expires-in-days", "3651")).Failed(1, "3650 days");
        var child = (await limited.RunAsync("token", "create", "--name", "inherits", "--json")).Succeeded().Json;
        Assert.Equal(parentExpiry, child.GetProperty("info").GetProperty("expiresAt").GetDateTimeOffset());

        using var childUser = new CliUser();
        (await childUser.RunAsync("login", Server.Url, "--token", child.GetProperty("token").GetString()!)).Succeeded();
        (await admin.RunAsync("token", "revoke", parentId)).Succeeded();
        (await childUser.RunAsync("whoami")).Failed(1, "(token_revoked)");
    }

    [Fact]
    public async Task TheSecretOfANewTokenIsPrintedOnce()
    {
        using var admin = new CliUser();
        await admin.LoginAsync(Server);
        var text = (await admin.RunAsync("token", "create", "--name", "printed")).Succeeded().Stdout;
        Assert.Matches("(?m)^    berth_[a-z2-7]{48}$", text);
    }

    [Fact]
    public async Task RevokingAnUnknownTokenReportsTheServersCode()
    {
        using var admin = new CliUser();
        await admin.LoginAsync(Server);
        (await admin.RunAsync("token", "revoke", "999999")).Failed(1, "(token_not_found)");
        (await admin.RunAsync("token", "revoke", "abc")).Failed(2, "abc");
    }
}
