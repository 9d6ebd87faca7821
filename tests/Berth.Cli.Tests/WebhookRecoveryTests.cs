using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// The server killed with SIGKILL while webhook deliveries wait for their next attempt: after a restart every
/// pending event is still delivered, and none twice to a receiver that answered 2xx.
/// </summary>
public sealed class WebhookRecoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PendingDeliveriesSurviveAKilledServer()
    {
        var settings = new Dictionary<string, string>
        {
            ["BERTH_Webhooks__RetryDelay"] = "00:00:01",
            ["BERTH_Webhooks__MaxAttempts"] = "20",
            ["BERTH_Webhooks__PollInterval"] = "00:00:00.050",
            ["BERTH_Webhooks__Timeout"] = "00:00:02",
            ["BERTH_Webhooks__AllowedNetworks__0"] = "127.0.0.1/32", // the receiver's address
        };
        await using var receiver = await WebhookReceiver.StartAsync();
        var up = false;
        receiver.Respond = _ => Task.FromResult(Volatile.Read(ref up) ? 200 : 503);

        var first = await ServerProcess.StartAsync(fsync: true, Ct, settings);
        const int changes = 5;
        using (var http = Client(first))
        {
            (await http.PostAsJsonAsync("/api/v1/namespaces", new { name = "hooks" }, Ct)).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync("/api/v1/models/hooks", new { name = "fraud" }, Ct)).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync("/api/v1/namespaces/hooks/webhooks", new { url = receiver.Url, secret = "a-secret-long-enough", events = new[] { "model.updated" } }, Ct)).EnsureSuccessStatusCode();
            for (var i = 0; i < changes; i++)
            {
                (await http.PatchAsJsonAsync("/api/v1/models/hooks/fraud", new { setTags = new Dictionary<string, string> { ["round"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) } }, Ct)).EnsureSuccessStatusCode();
            }

            // Every event had its first attempt refused: each delivery now waits for its retry.
            await receiver.WaitForAsync(calls => calls.Select(c => c.EventId).Distinct().Count() == changes);
        }

        await first.KillAsync();
        Volatile.Write(ref up, true);
        await using var second = await first.RestartAsync(Ct);
        var calls = await receiver.WaitForAsync(c => c.Where(x => x.Status == 200).Select(x => x.EventId).Distinct().Count() == changes, TimeSpan.FromSeconds(60));

        // Every delivery is finished (nothing more will be sent), each event answered 2xx exactly once.
        using var client = Client(second);
        var hooks = await client.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/hooks/webhooks", Ct);
        var id = hooks.GetProperty("items")[0].GetProperty("id").GetInt64();
        // The server records attempts after they are made, in batches: wait until all five are recorded.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<JsonElement> deliveries;
        while (true)
        {
            deliveries = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries", Ct)).GetProperty("items").EnumerateArray().ToList();
            if (deliveries.All(d => d.GetProperty("state").GetString() != "pending") || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(25, Ct);
        }

        Assert.Equal(changes, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal("succeeded", d.GetProperty("state").GetString()));
        var succeeded = receiver.Calls.Where(c => c.Status == 200).ToList();
        Assert.Equal(changes, succeeded.Count);
        Assert.Equal(changes, succeeded.Select(c => c.EventId).Distinct().Count());
        Assert.True(calls.Count(c => c.Status == 503) >= changes);
    }

    private static HttpClient Client(ServerProcess server)
    {
        var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        return http;
    }
}
