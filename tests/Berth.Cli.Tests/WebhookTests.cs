using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Berth.Cli.Tests.Support;
using Berth.Testing;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth webhook …</c> against the test server and real local receivers: subscriptions, secrets that are shown
/// only when the server made them, pings, deliveries with their attempts, redelivery, and the errors.
/// </summary>
public sealed class WebhookTests(ServerFixture fixture)
{
    private const string Secret = "a-signing-secret-of-32-characters";

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task AWebhookIsAddedListedShownUpdatedAndRemoved()
    {
        using var user = await CliUser.WithVersionAsync(Server, "wh-crud/fraud");
        var secretFile = Path.Combine(user.Root, "hook.secret");
        await File.WriteAllTextAsync(secretFile, Secret + "\n", TestContext.Current.CancellationToken);

        // A secret of the user's own is used and never printed, in JSON or as text.
        var added = (await user.RunAsync("webhook", "add", "wh-crud", "--url", "https://127.0.0.1:9/hooks/berth", "--events", "stage.changed,alias.moved",
            "--model", "wh-crud/fraud", "--secret-file", secretFile, "--description", "deploy pipeline", "--json")).Succeeded();
        var hook = added.Json;
        var id = hook.GetProperty("id").GetInt64();
        Assert.Equal("https://127.0.0.1:9/hooks/berth", hook.GetProperty("url").GetString());
        Assert.Equal(["alias.moved", "stage.changed"], Strings(hook.GetProperty("events")).Order(StringComparer.Ordinal));
        Assert.Equal("wh-crud/fraud", hook.GetProperty("model").GetString());
        Assert.Equal(JsonValueKind.Null, hook.GetProperty("secret").ValueKind);
        Assert.DoesNotContain(Secret, added.Stdout, StringComparison.Ordinal);
        var text = (await user.RunAsync("webhook", "add", "wh-crud", "--url", "https://127.0.0.1:9/other", "--model", "fraud", "--events", "version.ready", "--events", "stage.changed", "--secret-file", secretFile)).Succeeded().Stdout;
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", text, StringComparison.OrdinalIgnoreCase);
        Assert.Matches(@"(?m)^  events:\s+stage\.changed, version\.ready$", text);
        Assert.Matches(@"(?m)^  model:\s+wh-crud/fraud$", text);

        // Without --secret-file the server generates one, shown once, clearly.
        var generated = (await user.RunAsync("webhook", "add", "wh-crud", "--url", "https://127.0.0.1:9/generated")).Succeeded().Stdout;
        Assert.Contains("shown only this once", generated, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^    whsec_[0-9a-f]{48}$", generated);
        Assert.Matches(@"(?m)^  events:\s+\*$", generated);
        Assert.StartsWith("whsec_", (await user.RunAsync("webhook", "add", "wh-crud", "--url", "https://127.0.0.1:9/generated2", "--json")).Succeeded().Json.GetProperty("secret").GetString(), StringComparison.Ordinal);

        // list and show.
        var table = (await user.RunAsync("webhook", "list", "wh-crud")).Succeeded().Stdout;
        Assert.Matches($@"(?m)^{id}\s+https://127\.0\.0\.1:9/hooks/berth\s+alias\.moved,stage\.changed\s+wh-crud/fraud\s+enabled\s+0$", table);
        Assert.Matches(@"(?m)^\d+\s+https://127\.0\.0\.1:9/generated\s+\*\s+\(all\)\s+enabled\s+0$", table);
        Assert.Equal(4, (await user.RunAsync("webhook", "ls", "wh-crud", "--json")).Succeeded().Json.GetArrayLength());
        var shown = (await user.RunAsync("webhook", "show", Id(id))).Succeeded().Stdout;
        Assert.StartsWith($"Webhook #{id} of wh-crud", shown, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^  description:\s+deploy pipeline$", shown);
        Assert.Matches(@"(?m)^  created:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by admin$", shown);

        // update: every event of every model, disabled; then enabled for one model again with a new secret.
        var newSecret = Path.Combine(user.Root, "new.secret");
        await File.WriteAllTextAsync(newSecret, "another-secret-of-enough-length\r\n", TestContext.Current.CancellationToken);
        var paused = (await user.RunAsync("webhook", "update", Id(id), "--events", "*", "--all-models", "--disable", "--description", "paused", "--json")).Succeeded().Json;
        Assert.Equal(["*"], Strings(paused.GetProperty("events")));
        Assert.Equal(JsonValueKind.Null, paused.GetProperty("model").ValueKind);
        Assert.False(paused.GetProperty("enabled").GetBoolean());
        Assert.Matches($@"(?m)^{id}\s+\S+\s+\*\s+\(all\)\s+disabled \(disabled by admin\)\s+0$", (await user.RunAsync("webhook", "ls", "wh-crud")).Succeeded().Stdout);
        var resumed = (await user.RunAsync("webhook", "update", Id(id), "--enable", "--model", "fraud", "--secret-file", newSecret)).Succeeded().Stdout;
        Assert.StartsWith($"Updated webhook #{id} of wh-crud.", resumed, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^  status:\s+enabled$", resumed);
        Assert.Matches(@"(?m)^  model:\s+wh-crud/fraud$", resumed);
        Assert.DoesNotContain("another-secret", resumed, StringComparison.Ordinal);
        (await user.RunAsync("webhook", "update", Id(id))).Failed(2, "Nothing to change");
        (await user.RunAsync("webhook", "update", Id(id), "--model", "fraud", "--all-models")).Failed(2, "Give --model or --all-models, not both.");
        (await user.RunAsync("webhook", "update", Id(id), "--enable", "--disable")).Failed(2, "Give --enable or --disable, not both.");

        // remove: gone for show, remove and test.
        Assert.Equal($"Deleted webhook #{id}.{Environment.NewLine}", (await user.RunAsync("webhook", "remove", Id(id))).Succeeded().Stdout);
        (await user.RunAsync("webhook", "show", Id(id))).Failed(1, "(webhook_not_found)");
        (await user.RunAsync("webhook", "rm", Id(id), "--json")).Failed(1, "(webhook_not_found)");
        Assert.Equal(3, (await user.RunAsync("webhook", "ls", "wh-crud", "--json")).Succeeded().Json.GetArrayLength());
    }

    [Theory]
    [InlineData("not-a-url", "(invalid_webhook_url)")]
    [InlineData("ftp://127.0.0.1/hook", "(invalid_webhook_url)")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "(forbidden_address)")]
    [InlineData("http://[fe80::1]/hook", "(forbidden_address)")]
    [InlineData("http://[::1]:9/hook", "(forbidden_address)")]
    [InlineData("http://localhost:9/hook", "(forbidden_address)")]
    [InlineData("http://0x7f000002/hook", "(forbidden_address)")]
    [InlineData("http://10.0.0.1/hook", "(forbidden_address)")]
    [InlineData("http://[::ffff:192.168.0.1]/hook", "(forbidden_address)")]
    public async Task TheServerRefusesBadUrlsWithItsCode(string url, string code)
    {
        using var user = await CliUser.WithVersionAsync(Server, "wh-urls/fraud");
        (await user.RunAsync("webhook", "add", "wh-urls", "--url", url)).Failed(1, code);
        Assert.Equal(0, (await user.RunAsync("webhook", "ls", "wh-urls", "--json")).Succeeded().Json.GetArrayLength());
    }

    [Fact]
    public async Task UnknownIdsAndShortSecretsAreTheServersErrors()
    {
        using var user = await CliUser.WithVersionAsync(Server, "wh-ids/fraud");
        string[][] unknown = [["show", "987654"], ["update", "987654", "--disable"], ["remove", "987654"], ["test", "987654"], ["deliveries", "987654"]];
        foreach (var args in unknown)
        {
            (await user.RunAsync(["webhook", .. args])).Failed(1, "(webhook_not_found)");
        }

        (await user.RunAsync("webhook", "delivery", "987654")).Failed(1, "(delivery_not_found)");
        (await user.RunAsync("webhook", "redeliver", "987654")).Failed(1, "(delivery_not_found)");
        var shortSecret = Path.Combine(user.Root, "short.secret");
        await File.WriteAllTextAsync(shortSecret, "too-short\n", TestContext.Current.CancellationToken);
        var refused = await user.RunAsync("webhook", "add", "wh-ids", "--url", "http://127.0.0.1:9/hook", "--secret-file", shortSecret);
        refused.Failed(1, "(invalid_request)");
        Assert.DoesNotContain("too-short", refused.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--events", "stage.changed,model.exploded", "--events: 'model.exploded' is not an event type")]
    [InlineData("--events", ",", "--events needs at least one event type")]
    [InlineData("--secret-file", "missing.secret", "there is no such file")]
    [InlineData("--secret-file", "empty.secret", "the file is empty")]
    [InlineData("--secret-file", "newline.secret", "the file is empty")]
    [InlineData("--model", "other/fraud", "is not in namespace wh-usage")]
    [InlineData("--model", "wh-usage/fraud:3", "not a version")]
    public async Task ABadOptionIsAUsageErrorFoundBeforeAnythingIsSent(string option, string value, string message)
    {
        using var user = CliUser.WithDeadServer(Server.AdminToken);
        await File.WriteAllTextAsync(Path.Combine(user.Home, "empty.secret"), "", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(user.Home, "newline.secret"), "\n", TestContext.Current.CancellationToken);
        (await user.RunAsync("webhook", "add", "wh-usage", "--url", "http://127.0.0.1:9/hook", option, value)).Failed(2, message);
        if (option != "--model")
        {
            (await user.RunAsync("webhook", "update", "1", option, value)).Failed(2, message);
        }
    }

    [Fact]
    public async Task TestSendsAPingAndFailsUnlessTheReceiverAnswers2xx()
    {
        using var user = await CliUser.WithVersionAsync(Server, "wh-ping/fraud");
        await using var receiver = await WebhookReceiver.StartAsync();
        var id = (await user.RunAsync("webhook", "add", "wh-ping", "--url", receiver.Url, "--json")).Succeeded().Json.GetProperty("id").GetInt64();

        receiver.Respond = _ => Task.FromResult(200);
        var ok = (await user.RunAsync("webhook", "test", Id(id))).Succeeded().Stdout;
        Assert.Matches($@"^Ping delivered to webhook #{id}: 200 in [\d.]+ m?s\.\n  response:\s+received \d+ bytes\n$", ok);
        var ping = Assert.Single(receiver.Calls);
        Assert.Equal("ping", ping.EventType);
        Assert.Equal(200, ping.Status);

        receiver.Respond = _ => Task.FromResult(500);
        var failed = await user.RunAsync("webhook", "test", Id(id));
        failed.Failed(1, $"The ping to webhook #{id} failed: 500 in ");
        Assert.Contains("received ", failed.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, receiver.Calls.Count);

        var json = await user.RunAsync("webhook", "test", Id(id), "--json");
        Assert.Equal(1, json.ExitCode);
        Assert.Equal(500, json.Json.GetProperty("lastStatus").GetInt32());
        Assert.Equal("failed", json.Json.GetProperty("state").GetString());
        Assert.Equal(500, Assert.Single(json.Json.GetProperty("attempts").EnumerateArray()).GetProperty("status").GetInt32());
        Assert.StartsWith("error: The ping", json.Stderr, StringComparison.Ordinal);

        // A receiver that is not there: no status, the connection error instead.
        var gone = (await user.RunAsync("webhook", "add", "wh-ping", "--url", $"http://127.0.0.1:{ServerProcess.FreePort()}/hook", "--json")).Succeeded().Json.GetProperty("id").GetInt64();
        (await user.RunAsync("webhook", "test", Id(gone))).Failed(1, "failed: no answer after ");
    }

    [Fact]
    public async Task ANamespaceAdminSeesTheStatusAndErrorCategoryButNotTheReceiversAnswer()
    {
        using var admin = await CliUser.WithVersionAsync(Server, "wh-nsadmin/fraud");
        (await admin.RunAsync("user", "add", "wh-nina")).Succeeded();
        (await admin.RunAsync("member", "add", "wh-nsadmin", "wh-nina", "admin")).Succeeded();
        var token = (await admin.RunAsync("token", "create", "--user", "wh-nina", "--name", "hooks", "--json")).Succeeded().Json.GetProperty("token").GetString()!;
        using var nina = new CliUser();
        nina.Environment["BERTH_URL"] = Server.Url;
        nina.Environment["BERTH_TOKEN"] = token;
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = _ => Task.FromResult(500);
        var id = (await nina.RunAsync("webhook", "add", "wh-nsadmin", "--url", receiver.Url, "--json")).Succeeded().Json.GetProperty("id").GetInt64();

        // The receiver's answer ("received N bytes") reaches server administrators only.
        var failed = await nina.RunAsync("webhook", "test", Id(id));
        failed.Failed(1, $"The ping to webhook #{id} failed: 500 in ");
        Assert.DoesNotContain("received", failed.Stderr, StringComparison.Ordinal);
        (await admin.RunAsync("webhook", "test", Id(id))).Failed(1, "received ");
        var delivery = (await nina.RunAsync("webhook", "deliveries", Id(id), "--json")).Succeeded().Json[0].GetProperty("id").GetInt64();
        Assert.DoesNotContain("received", (await nina.RunAsync("webhook", "delivery", Id(delivery))).Succeeded().Stdout, StringComparison.Ordinal);
        Assert.Contains("received", (await admin.RunAsync("webhook", "delivery", Id(delivery))).Succeeded().Stdout, StringComparison.Ordinal);

        // Nothing listening: the category, not the socket's message.
        var closed = (await nina.RunAsync("webhook", "add", "wh-nsadmin", "--url", $"http://127.0.0.1:{ServerProcess.FreePort()}/hook", "--json")).Succeeded().Json.GetProperty("id").GetInt64();
        var refused = await nina.RunAsync("webhook", "test", Id(closed));
        refused.Failed(1, ": connection_refused (a receiver must answer 2xx).");
        Assert.DoesNotContain("Connection refused", refused.Stderr, StringComparison.Ordinal); // the socket's words
        (await admin.RunAsync("webhook", "test", Id(closed))).Failed(1, ": connection_refused (");
    }

    [Fact]
    public async Task DeliveriesShowTheirAttemptsAndCanBeSentAgain()
    {
        using var user = await CliUser.WithVersionAsync(Server, "wh-deliver/fraud");
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = _ => Task.FromResult(200);
        var id = (await user.RunAsync("webhook", "add", "wh-deliver", "--url", receiver.Url, "--events", "stage.changed", "--json")).Succeeded().Json.GetProperty("id").GetInt64();
        Assert.Equal($"No deliveries for webhook #{id}.{Environment.NewLine}", (await user.RunAsync("webhook", "deliveries", Id(id))).Succeeded().Stdout);

        // A stage change is delivered once; the delivery records the attempt.
        (await user.RunAsync("stage", "wh-deliver/fraud:1", "staging")).Succeeded();
        var eventId = (await receiver.WaitForAsync(calls => calls.Any(c => c.EventType == "stage.changed"))).Single(c => c.EventType == "stage.changed").EventId;
        var delivery = await WaitForDeliveryAsync(user, id, d => d.GetProperty("state").GetString() == "succeeded");
        var deliveryId = delivery.GetProperty("id").GetInt64();
        Assert.Equal(eventId, delivery.GetProperty("eventId").GetInt64());
        Assert.Equal(1, delivery.GetProperty("attemptCount").GetInt32());
        Assert.Equal(200, delivery.GetProperty("lastStatus").GetInt32());
        var table = (await user.RunAsync("webhook", "deliveries", Id(id))).Succeeded().Stdout;
        Assert.Matches($@"(?m)^{deliveryId}\s+stage\.changed #{eventId}\s+succeeded\s+1\s+200\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+-$", table);
        Assert.Equal($"No failed deliveries for webhook #{id}.{Environment.NewLine}", (await user.RunAsync("webhook", "deliveries", Id(id), "--state", "failed")).Succeeded().Stdout);
        (await user.RunAsync("webhook", "deliveries", Id(id), "--state", "lost")).Failed(2, "Argument 'lost' not recognized");

        var shown = (await user.RunAsync("webhook", "delivery", Id(deliveryId))).Succeeded().Stdout;
        Assert.StartsWith($"Delivery #{deliveryId} to webhook #{id}: succeeded", shown, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^  event:\s+stage\.changed #{eventId}$", shown);
        Assert.Matches(@"(?m)^  1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+[\d.]+ m?s\s+200\s+received \d+ bytes$", shown);
        var attempt = Assert.Single((await user.RunAsync("webhook", "delivery", Id(deliveryId), "--json")).Succeeded().Json.GetProperty("attempts").EnumerateArray());
        Assert.Equal(200, attempt.GetProperty("status").GetInt32());

        // redeliver: a new delivery of the same event, and the receiver gets it a second time.
        var again = (await user.RunAsync("webhook", "redeliver", Id(deliveryId), "--json")).Succeeded().Json;
        Assert.NotEqual(deliveryId, again.GetProperty("id").GetInt64());
        Assert.Equal(deliveryId, again.GetProperty("redeliveryOf").GetInt64());
        Assert.Equal(eventId, again.GetProperty("eventId").GetInt64());
        await receiver.WaitForAsync(calls => calls.Count(c => c.EventType == "stage.changed" && c.EventId == eventId) == 2);
        var queued = (await user.RunAsync("webhook", "redeliver", Id(deliveryId))).Succeeded().Stdout;
        Assert.Matches($@"^Queued delivery #\d+ to webhook #{id}\.\n", queued);
        Assert.Matches($@"(?m)^  redelivery of:\s+#{deliveryId}$", queued);
        await receiver.WaitForAsync(calls => calls.Count(c => c.EventType == "stage.changed" && c.EventId == eventId) == 3);

        // A receiver that fails: the delivery stays pending, with the status and the time of its next attempt.
        receiver.Respond = _ => Task.FromResult(500);
        (await user.RunAsync("stage", "wh-deliver/fraud:1", "production")).Succeeded();
        var pending = await WaitForDeliveryAsync(user, id, d => d.GetProperty("state").GetString() == "pending" && d.GetProperty("attemptCount").GetInt32() == 1, "--state", "pending");
        Assert.Equal(500, pending.GetProperty("lastStatus").GetInt32());
        var pendingRow = (await user.RunAsync("webhook", "deliveries", Id(id), "--state", "pending")).Succeeded().Stdout;
        Assert.Matches($@"(?m)^{pending.GetProperty("id").GetInt64()}\s+stage\.changed #\d+\s+pending\s+1\s+500\s+\S+ \S+ UTC\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", pendingRow);
        Assert.Matches(@"(?m)^  1\s+.*\s500\s+received \d+ bytes$", (await user.RunAsync("webhook", "delivery", Id(pending.GetProperty("id").GetInt64()))).Succeeded().Stdout);
        (await user.RunAsync("webhook", "remove", Id(id))).Succeeded();
    }

    /// <summary>Lists the webhook's deliveries until one satisfies <paramref name="condition"/> (the worker records attempts after the receiver answers).</summary>
    private static async Task<JsonElement> WaitForDeliveryAsync(CliUser user, long webhook, Func<JsonElement, bool> condition, params string[] options)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var deliveries = (await user.RunAsync(["webhook", "deliveries", Id(webhook), "--json", .. options])).Succeeded().Json;
            if (deliveries.EnumerateArray().FirstOrDefault(condition) is { ValueKind: JsonValueKind.Object } found)
            {
                return found;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"no delivery of webhook #{webhook} reached the expected state: {deliveries}");
        }
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();
}
