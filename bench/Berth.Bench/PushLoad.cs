using System.Diagnostics;
using System.Globalization;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Bench;

/// <summary>
/// Pushes of small versions as fast as the servers take them: N clients, spread round-robin over one or
/// more server URLs, each pushing new versions of its own model (a declare, one small upload of bytes never
/// seen before, a commit: the three requests of a real push of a one-file model) for a fixed time.
/// Prints <c>pushes/s p50 p99</c> (milliseconds per whole push).
/// </summary>
internal static class PushLoad
{
    public const string Usage = "berth-bench push-load --urls <url>[,<url>…] --token <token> [--clients 16] [--seconds 20] [--warmup 5]";

    public static async Task<int> RunAsync(Func<string, string?> option)
    {
        var urls = (option("--urls") ?? throw new ArgumentException("--urls is required")).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(u => new Uri(u)).ToList();
        var token = option("--token") ?? throw new ArgumentException("--token is required");
        var clients = int.Parse(option("--clients") ?? "16", CultureInfo.InvariantCulture);
        var seconds = double.Parse(option("--seconds") ?? "20", CultureInfo.InvariantCulture);
        var warmup = double.Parse(option("--warmup") ?? "5", CultureInfo.InvariantCulture);
        var run = DateTime.UtcNow.ToString("HHmmssfff", CultureInfo.InvariantCulture);
        var sdks = urls.Select(u => new BerthClient(new BerthClientOptions { BaseUri = u, Token = token })).ToList();

        try
        {
            await sdks[0].CreateNamespaceAsync(new CreateNamespaceRequest("scale-push"));
        }
        catch (BerthProblemException e) when (e.Status == System.Net.HttpStatusCode.Conflict)
        {
            // made by an earlier run
        }

        var total = Stopwatch.StartNew();
        var measureFrom = TimeSpan.FromSeconds(warmup);
        var measureTo = measureFrom + TimeSpan.FromSeconds(seconds);
        var samples = new List<double>[clients];
        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var sdk = sdks[c % sdks.Count];
            var mine = samples[c] = [];
            var model = $"push-{run}-{c}";
            for (var i = 0; total.Elapsed < measureTo; i++)
            {
                var bytes = System.Text.Encoding.UTF8.GetBytes($"push {run} client {c} version {i} {Guid.NewGuid()}\n");
                var digest = Digest.Compute(bytes);
                var started = total.Elapsed;
                var created = await sdk.CreateVersionAsync("scale-push", model, new CreateVersionRequest(
                    [new FileEntry("model.bin", bytes.Length, digest.ToString())],
                    Metrics: new Dictionary<string, double> { ["auc"] = 0.9 },
                    Tags: new Dictionary<string, string> { ["team"] = "risk" }));
                if (created.MissingBlobs.Count > 0)
                {
                    using var content = new MemoryStream(bytes);
                    await sdk.PutBlobAsync("scale-push", model, content, digest, bytes.Length);
                }

                await sdk.CommitVersionAsync("scale-push", model, created.Version.Number);
                var ended = total.Elapsed;
                if (started >= measureFrom && ended <= measureTo)
                {
                    mine.Add((ended - started).TotalMilliseconds);
                }
            }
        })).ToList();
        await Task.WhenAll(workers);
        foreach (var sdk in sdks)
        {
            sdk.Dispose();
        }

        var all = samples.SelectMany(s => s).ToList();
        all.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{all.Count / seconds:F0} | {ScaleLatency.Percentile(all, 50):F1} | {ScaleLatency.Percentile(all, 99):F1}"));
        return 0;
    }
}
