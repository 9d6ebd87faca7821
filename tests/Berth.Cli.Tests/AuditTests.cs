using System.Globalization;
using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth audit ls|export|verify</c> on a server of its own, whose database the test then tampers with
/// as an attacker with access to it would: the hash chain names the entry that was changed or deleted.
/// </summary>
public sealed class AuditTests(ServerFixture fixture)
{
    [Fact]
    public async Task TheAuditLogIsListedExportedAndVerifiedAndTamperingIsFound()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await ServerProcess.StartAsync(cancellationToken);
        using var admin = new CliUser();
        using var model = new ModelFolder(("weights.bin", 500));
        await admin.LoginAsync(server);
        (await admin.RunAsync("user", "add", "auditor")).Succeeded();
        (await admin.RunAsync("push", model.Root, "ledger/model", "--alias", "candidate")).Succeeded();
        (await admin.RunAsync("stage", "ledger/model:1", "staging", "--comment", "first")).Succeeded();
        (await admin.RunAsync("push", model.Root, "other/model")).Succeeded();

        // ls: every entry, oldest first, positions without gaps; the namespace filter keeps its own.
        var entries = (await admin.RunAsync("audit", "ls", "--json")).Succeeded().Json.EnumerateArray().ToList();
        Assert.True(entries.Count >= 8, $"Expected the actions above to be audited, found {entries.Count} entries.");
        Assert.Equal(Enumerable.Range(1, entries.Count).Select(i => (long)i), entries.Select(e => e.GetProperty("id").GetInt64()));
        Assert.Contains(entries, e => e.GetProperty("action").GetString() == "user.create" && e.GetProperty("target").GetString() == "user auditor");
        var ledger = (await admin.RunAsync("audit", "ls", "--namespace", "ledger", "--json")).Succeeded().Json.EnumerateArray().ToList();
        Assert.NotEmpty(ledger);
        Assert.All(ledger, e => Assert.Equal("ledger", e.GetProperty("namespace").GetString()));
        Assert.Contains(ledger, e => e.GetProperty("action").GetString() == "stage.change");
        Assert.Contains("stage.change", (await admin.RunAsync("audit", "ls", "--namespace", "ledger")).Succeeded().Stdout, StringComparison.Ordinal);

        // export: JSON lines, the same entries as ls for the same filter (a date, or a time from the log itself).
        var firstDay = entries[0].GetProperty("at").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Assert.Equal(Ids(entries), Ids(Lines((await admin.RunAsync("audit", "export", "--since", firstDay)).Succeeded().Stdout)));
        var middle = entries[entries.Count / 2].GetProperty("at").GetDateTimeOffset().UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        var since = (await admin.RunAsync("audit", "ls", "--since", middle, "--json")).Succeeded().Json.EnumerateArray().ToList();
        var exported = Lines((await admin.RunAsync("audit", "export", "--since", middle)).Succeeded().Stdout);
        Assert.InRange(since.Count, 1, entries.Count - 1);
        Assert.Equal(Ids(since), Ids(exported));
        Assert.Equal(since[0].GetProperty("hash").GetString(), exported[0].GetProperty("hash").GetString());
        Assert.Empty((await admin.RunAsync("audit", "export", "--until", firstDay)).Succeeded().Stdout);

        var verified = (await admin.RunAsync("audit", "verify")).Succeeded().Stdout;
        Assert.Matches($@"^audit log verified: {entries.Count} entries in \d+\.\d\d s\n$", verified);

        // An edited entry breaks its own hash; restoring it mends the chain.
        var database = server.Database;
        var edited = entries[2].GetProperty("id").GetInt64();
        var original = await database.ScalarAsync("SELECT details FROM audit_log WHERE id = @id", cancellationToken, ("id", edited));
        Assert.Equal(1, await database.ExecuteAsync("UPDATE audit_log SET details = '{\"forged\":true}' WHERE id = @id", cancellationToken, ("id", edited)));
        var broken = await admin.RunAsync("audit", "verify");
        broken.Failed(1, $"audit log broken at entry {edited}: entry {edited} was changed");
        await database.ExecuteAsync("UPDATE audit_log SET details = @value WHERE id = @id", cancellationToken, ("id", edited), ("value", original));
        (await admin.RunAsync("audit", "verify")).Succeeded();

        // A deleted entry leaves a gap the chain names.
        var deleted = entries[4].GetProperty("id").GetInt64();
        Assert.Equal(1, await database.ExecuteAsync("DELETE FROM audit_log WHERE id = @id", cancellationToken, ("id", deleted)));
        (await admin.RunAsync("audit", "verify")).Failed(1, $"audit log broken at entry {deleted}: entry {deleted} is missing");
        var json = await admin.RunAsync("audit", "verify", "--json");
        Assert.Equal(1, json.ExitCode);
        Assert.False(json.Json.GetProperty("valid").GetBoolean());
        Assert.Equal(deleted, json.Json.GetProperty("firstBrokenId").GetInt64());
    }

    [Fact]
    public async Task OnlyServerAdministratorsReadTheAuditLog()
    {
        var server = fixture.Server;
        using var admin = new CliUser();
        await admin.LoginAsync(server);
        (await admin.RunAsync("user", "add", "audit-outsider")).Succeeded();
        var minted = (await admin.RunAsync("token", "create", "--user", "audit-outsider", "--name", "ci", "--json")).Succeeded().Json;
        using var outsider = new CliUser();
        outsider.Environment["BERTH_URL"] = server.Url;
        outsider.Environment["BERTH_TOKEN"] = minted.GetProperty("token").GetString();
        Assert.Equal("audit-outsider", (await outsider.RunAsync("whoami", "--json")).Succeeded().Json.GetProperty("user").GetProperty("name").GetString());
        (await outsider.RunAsync("audit", "ls")).Failed(1, "(forbidden)");
        (await outsider.RunAsync("audit", "verify")).Failed(1, "(forbidden)");
        (await outsider.RunAsync("audit", "export")).Failed(1, "(forbidden)");
    }

    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.Clone();
        }).ToList();

    private static List<long> Ids(IEnumerable<JsonElement> entries) => entries.Select(e => e.GetProperty("id").GetInt64()).ToList();
}
