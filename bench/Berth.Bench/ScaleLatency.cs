using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Berth.Bench;

/// <summary>
/// Latency of the read paths on a seeded registry (<see cref="Seed"/>), one request at a time on one
/// connection (so each sample is the server's time plus loopback, without queueing behind other clients):
/// search with a tag filter and a metric sort (first pages, and the following keyset pages), every page of
/// the big model's version list, and alias resolution on random models. Prints one line per measurement:
/// <c>name | samples | p50 | p95 | p99 | max</c> in milliseconds, and with <c>--server-pid</c> (a server on this
/// machine) <c>| CPU ms per request</c>: the server's own CPU time (user + system, from /proc), which on a shared
/// machine says more than wall-clock time about what a request costs.
/// </summary>
internal static class ScaleLatency
{
    public const string Usage =
        "berth-bench scale-latency --url <server> --token <token> [--server-pid <pid>] [--models 100000] [--namespaces 100] [--search-rounds 5] [--pages 10] [--aliases 20000]";

    private static int? _serverPid;
    private static double _cpuAtStart;

    public static async Task<int> RunAsync(Func<string, string?> option)
    {
        var url = new Uri(option("--url") ?? throw new ArgumentException("--url is required"));
        var token = option("--token") ?? throw new ArgumentException("--token is required");
        var models = int.Parse(option("--models") ?? "100000", CultureInfo.InvariantCulture);
        var namespaces = int.Parse(option("--namespaces") ?? "100", CultureInfo.InvariantCulture);
        var rounds = int.Parse(option("--search-rounds") ?? "5", CultureInfo.InvariantCulture);
        var pages = int.Parse(option("--pages") ?? "10", CultureInfo.InvariantCulture);
        var aliases = int.Parse(option("--aliases") ?? "20000", CultureInfo.InvariantCulture);
        _serverPid = option("--server-pid") is { } pid ? int.Parse(pid, CultureInfo.InvariantCulture) : null;

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = url, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        // Search: tags.team = '<team>' sorted by -metrics.auc, following the cursor for `pages` pages.
        var first = new List<double>();
        var deeper = new List<double>();
        var requests = 0;
        StartCpu();
        for (var round = 0; round <= rounds; round++) // round 0 warms up
        {
            foreach (var team in Seed.Teams)
            {
                string? cursor = null;
                for (var page = 1; page <= pages; page++)
                {
                    var path = $"/api/v1/search?q={Uri.EscapeDataString($"tags.team = '{team}'")}&sort=-metrics.auc" +
                               (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
                    var (ms, body) = await TimedGetAsync(http, path);
                    requests++;
                    if (round > 0)
                    {
                        (page == 1 ? first : deeper).Add(ms);
                    }

                    cursor = NextCursor(body);
                    if (cursor is null)
                    {
                        break;
                    }
                }
            }
        }

        var searchCpu = CpuPerRequest(requests);
        Report("search tags.team=X sort -metrics.auc, page 1", first, searchCpu);
        Report($"search tags.team=X sort -metrics.auc, pages 2-{pages}", deeper, searchCpu);

        // Every page of the big model's versions (default page size), after 50 pages of warm-up.
        var listing = new List<double>();
        requests = 0;
        StartCpu();
        for (var pass = 0; pass < 2; pass++)
        {
            string? cursor = null;
            var page = 0;
            do
            {
                var path = $"/api/v1/models/{Seed.NamespaceName(0)}/{Seed.ModelName(0)}/versions" + (cursor is null ? "" : "?cursor=" + Uri.EscapeDataString(cursor));
                var (ms, body) = await TimedGetAsync(http, path);
                requests++;
                if (pass == 1)
                {
                    listing.Add(ms);
                }

                cursor = NextCursor(body);
                page++;
            }
            while (cursor is not null && (pass == 1 || page < 50));
        }

        Report($"list {Seed.NamespaceName(0)}/{Seed.ModelName(0)} versions, every page of 50", listing, CpuPerRequest(requests));

        // Alias resolution on random models (a fixed sequence), after 10% warm-up.
        var random = new Random(7);
        var resolve = new List<double>();
        var warm = aliases / 10;
        StartCpu();
        for (var i = 0; i < warm + aliases; i++)
        {
            var m = random.Next(1, models);
            var (ms, _) = await TimedGetAsync(http, $"/api/v1/models/{Seed.NamespaceName(m % namespaces)}/{Seed.ModelName(m)}/versions/champion/manifest", read: false);
            if (i >= warm)
            {
                resolve.Add(ms);
            }
        }

        Report("resolve alias champion (manifest) on random models", resolve, CpuPerRequest(warm + aliases));
        return 0;
    }

    private static async Task<(double Ms, byte[] Body)> TimedGetAsync(HttpClient http, string path, bool read = true)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsByteArrayAsync();
        var ms = clock.Elapsed.TotalMilliseconds;
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
        }

        return (ms, read ? body : []);
    }

    private static string? NextCursor(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
    }

    private static void Report(string name, List<double> samples, double? cpu)
    {
        samples.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name} | {samples.Count} | {Percentile(samples, 50):F2} | {Percentile(samples, 95):F2} | {Percentile(samples, 99):F2} | {samples[^1]:F2}") +
            (cpu is { } c ? string.Create(CultureInfo.InvariantCulture, $" | {c:F2}") : ""));
    }

    private static void StartCpu() => _cpuAtStart = ServerCpuMs() ?? 0;

    private static double? CpuPerRequest(int requests) => ServerCpuMs() is { } now ? (now - _cpuAtStart) / requests : null;

    /// <summary>The server's user + system CPU time in milliseconds (fields 14 and 15 of /proc/pid/stat, in clock ticks of 10 ms).</summary>
    private static double? ServerCpuMs()
    {
        if (_serverPid is not { } pid)
        {
            return null;
        }

        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
    }

    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
