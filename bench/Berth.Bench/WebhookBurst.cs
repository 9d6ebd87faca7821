using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Bench;

/// <summary>
/// A burst of promotions with N subscribed endpoints: every promotion is a stage change (versions flip between
/// staging and production), each endpoint is a local receiver answering 204 at once. For every delivery the
/// receiver notes when it arrived; minus the event's time (taken in the transaction that committed it) that is the
/// time from commit to delivery, an upper bound of the time to the first attempt.
/// </summary>
internal static class WebhookBurst
{
    public static async Task<int> RunAsync(Func<string, string?> option)
    {
        var url = new Uri(option("--url") ?? throw new ArgumentException("--url is required"));
        var token = option("--token") ?? throw new ArgumentException("--token is required");
        var promotions = int.Parse(option("--promotions") ?? "1000", CultureInfo.InvariantCulture);
        var endpoints = int.Parse(option("--endpoints") ?? "10", CultureInfo.InvariantCulture);
        var concurrency = int.Parse(option("--concurrency") ?? "8", CultureInfo.InvariantCulture);
        const int models = 20;

        using var client = new BerthClient(new BerthClientOptions { BaseUri = url, Token = token });
        var ns = "burst" + DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        await client.CreateNamespaceAsync(new CreateNamespaceRequest(ns));
        var folder = Directory.CreateTempSubdirectory("berth-burst").FullName;
        await File.WriteAllBytesAsync(Path.Combine(folder, "w.bin"), new byte[64]);
        for (var m = 0; m < models; m++)
        {
            await client.PushAsync(folder, ns, $"m{m}", new PushOptions());
        }

        var received = new ConcurrentBag<(int Endpoint, long EventId, DateTimeOffset Time, DateTimeOffset At)>();
        var apps = new List<WebApplication>();
        for (var e = 0; e < endpoints; e++)
        {
            var (app, address) = await StartReceiverAsync(e, received);
            apps.Add(app);
            await client.CreateWebhookAsync(ns, new CreateWebhookRequest(address, "bench-secret-0123456789", [EventTypes.StageChanged]));
        }

        promotions -= promotions % models;
        var expected = promotions * endpoints;
        var clock = Stopwatch.StartNew();
        // Each client owns some models and flips them in turn, so that every promotion is a real change.
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            for (var round = 0; round < promotions / models; round++)
            {
                for (var model = worker; model < models; model += concurrency)
                {
                    await client.ChangeStageAsync(ModelReference.Parse($"{ns}/m{model}:1"), round % 2 == 0 ? "staging" : "production");
                }
            }
        }));
        var burst = clock.Elapsed;
        while (received.Count < expected && clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(20);
        }

        var all = clock.Elapsed;
        var latencies = received.Select(r => (r.At - r.Time).TotalMilliseconds).Order().ToList();
        var distinct = received.Select(r => (r.Endpoint, r.EventId)).Distinct().Count();
        foreach (var app in apps)
        {
            await app.StopAsync();
        }

        Console.WriteLine($"promotions: {promotions} in {burst.TotalSeconds:F2} s ({promotions / burst.TotalSeconds:F0}/s, {concurrency} clients)");
        Console.WriteLine($"deliveries: {received.Count} of {expected} ({distinct} distinct endpoint/event pairs) within {all.TotalSeconds:F2} s of the first promotion");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"commit to delivery: p50 {Percentile(latencies, 0.50):F0} ms, p95 {Percentile(latencies, 0.95):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms, max {latencies[^1]:F0} ms"));
        Directory.Delete(folder, recursive: true);
        return received.Count == expected && distinct == expected ? 0 : 1;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static async Task<(WebApplication App, string Url)> StartReceiverAsync(int index, ConcurrentBag<(int, long, DateTimeOffset, DateTimeOffset)> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/hook", async context =>
        {
            var at = DateTimeOffset.UtcNow;
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            var root = body.RootElement;
            received.Add((index, root.GetProperty("id").GetInt64(), root.GetProperty("time").GetDateTimeOffset(), at));
            context.Response.StatusCode = 204;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address + "/hook");
    }
}
