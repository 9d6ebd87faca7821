using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;

namespace Berth.Bench;

/// <summary>
/// The metric targets of issue 12 against a running server (bench/runs.sh): ingestion from one client (one
/// connection, one batch in flight at a time), then downsampled reads of one metric of a 5 × 1,000,000-point run
/// and comparisons of 10 runs of 1,000,000 steps on one metric.
/// </summary>
internal static class RunMetrics
{
    public const string Usage = "berth-bench run-metrics --url <server> --token <token> [--steps 1000000] [--keys 5] [--runs 10] [--batch 10000] [--reads 200] [--compares 50]";

    public static async Task<int> RunAsync(Func<string, string?> option)
    {
        var url = new Uri(option("--url") ?? throw new ArgumentException("--url is required"));
        var token = option("--token") ?? throw new ArgumentException("--token is required");
        var steps = int.Parse(option("--steps") ?? "1000000", CultureInfo.InvariantCulture);
        var keys = int.Parse(option("--keys") ?? "5", CultureInfo.InvariantCulture);
        var runs = int.Parse(option("--runs") ?? "10", CultureInfo.InvariantCulture);
        var batch = int.Parse(option("--batch") ?? "10000", CultureInfo.InvariantCulture);
        var reads = int.Parse(option("--reads") ?? "200", CultureInfo.InvariantCulture);
        var compares = int.Parse(option("--compares") ?? "50", CultureInfo.InvariantCulture);
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var json = BerthJsonContext.Default;
        var names = Enumerable.Range(0, keys).Select(k => k == 0 ? "loss" : $"metric_{k}").ToArray();

        async Task<string> StartAsync(int i)
        {
            using var response = await http.PostAsJsonAsync("/api/v1/models/bench/runs/runs", new CreateRunRequest(Name: $"run-{i}"), json.CreateRunRequest);
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync(json.RunInfo))!.Id;
        }

        // Ingestion: run 0 gets every key; the other runs only the compared key (what a comparison on one metric reads).
        var ids = new List<string>();
        double firstRate = 0;
        var total = Stopwatch.StartNew();
        for (var r = 0; r < runs; r++)
        {
            var id = await StartAsync(r);
            ids.Add(id);
            var runKeys = r == 0 ? names : [names[0]];
            var perBatch = Math.Max(1, batch / runKeys.Length);
            var clock = Stopwatch.StartNew();
            long points = 0;
            var random = new Random(r);
            var body = new StringBuilder(batch * 64);
            for (var start = 0; start < steps; start += perBatch)
            {
                body.Clear().Append("{\"batchId\":\"").Append(r).Append('-').Append(start).Append("\",\"points\":[");
                var first = true;
                for (var step = start; step < Math.Min(steps, start + perBatch); step++)
                {
                    foreach (var key in runKeys)
                    {
                        if (!first)
                        {
                            body.Append(',');
                        }

                        first = false;
                        var value = Math.Exp(-step / 200000.0) + (random.NextDouble() * 0.05);
                        body.Append("{\"key\":\"").Append(key).Append("\",\"step\":").Append(step)
                            .Append(",\"value\":").Append(value.ToString("R", CultureInfo.InvariantCulture))
                            .Append(",\"time\":").Append(1_765_000_000_000L + step).Append('}');
                        points++;
                    }
                }

                body.Append("]}");
                using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/json");
                using var response = await http.PostAsync($"/api/v1/models/bench/runs/runs/{id}/metrics", content);
                if (!response.IsSuccessStatusCode)
                {
                    Console.Error.WriteLine(await response.Content.ReadAsStringAsync());
                    return 1;
                }
            }

            var rate = points / clock.Elapsed.TotalSeconds;
            if (r == 0)
            {
                firstRate = rate;
                Console.WriteLine($"ingest_points={points} ingest_seconds={clock.Elapsed.TotalSeconds:F1} ingest_points_per_s={rate:F0}");
            }
            else
            {
                Console.Error.WriteLine($"run {r}: {points} points at {rate:F0}/s");
            }
        }

        Console.Error.WriteLine($"ingested {runs} runs in {total.Elapsed.TotalSeconds:F0} s");

        // Warm-up, then timed reads of a random metric of run 0, downsampled to 1,000 buckets.
        var pick = new Random(42);
        for (var i = 0; i < 10; i++)
        {
            await http.GetByteArrayAsync($"/api/v1/models/bench/runs/runs/{ids[0]}/series?key={names[i % keys]}&buckets=1000");
        }

        var readTimes = new List<double>();
        long buckets = 0;
        for (var i = 0; i < reads; i++)
        {
            var clock = Stopwatch.StartNew();
            var set = await http.GetFromJsonAsync($"/api/v1/models/bench/runs/runs/{ids[0]}/series?key={names[pick.Next(keys)]}&buckets=1000", json.SeriesSet);
            readTimes.Add(clock.Elapsed.TotalMilliseconds);
            buckets = set!.Series[0].Buckets!.Count;
        }

        Console.WriteLine($"read_buckets={buckets} read_p50_ms={Percentile(readTimes, 0.5):F1} read_p95_ms={Percentile(readTimes, 0.95):F1}");

        var compareUrl = $"/api/v1/models/bench/runs/runs/compare?runs={string.Join(',', ids)}&keys=loss&buckets=1000";
        for (var i = 0; i < 3; i++)
        {
            await http.GetByteArrayAsync(compareUrl);
        }

        var compareTimes = new List<double>();
        for (var i = 0; i < compares; i++)
        {
            var clock = Stopwatch.StartNew();
            var set = await http.GetFromJsonAsync(compareUrl, json.SeriesSet);
            compareTimes.Add(clock.Elapsed.TotalMilliseconds);
            if (set!.Series.Count != ids.Count)
            {
                return 1;
            }
        }

        Console.WriteLine($"compare_runs={ids.Count} compare_p50_ms={Percentile(compareTimes, 0.5):F1} compare_p95_ms={Percentile(compareTimes, 0.95):F1}");
        Console.WriteLine($"first_run_rate={firstRate:F0}");
        return 0;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }
}
