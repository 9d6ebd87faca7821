using System.Diagnostics;
using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// The digest cache and the upload resume store live in one cache folder that every berth process of a user
/// shares: pushes running at the same time keep each other's entries, and each interrupted push resumes.
/// </summary>
public sealed class CacheConcurrencyTests(ServerFixture fixture)
{
    private const int MiB = 1024 * 1024;
    private const int Pushes = 5;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConcurrentPushesKeepEveryOnesDigestsInTheSharedCache()
    {
        using var user = new CliUser();
        user.Environment["BERTH_URL"] = fixture.Server.Url;
        user.Environment["BERTH_TOKEN"] = fixture.Server.AdminToken;
        var models = Enumerable.Range(0, Pushes).Select(i => new ModelFolder(($"w{i}.bin", 2 * MiB), ($"c{i}.json", 100))).ToList();
        try
        {
            var results = await Task.WhenAll(models.Select((m, i) => user.RunAsync("push", m.Root, $"cache-digests/m{i}")));
            Assert.All(results, r => r.Succeeded());

            var cached = Keys(Path.Combine(user.CacheDirectory, "digests.json"));
            foreach (var file in models.SelectMany(m => Directory.EnumerateFiles(m.Root)))
            {
                Assert.Contains(file, cached);
            }
        }
        finally
        {
            models.ForEach(m => m.Dispose());
        }
    }

    [Fact]
    public async Task ConcurrentPushesKilledMidUploadAllResume()
    {
        await using var server = await ServerProcess.StartAsync(Ct);
        await using var proxy = new LoadBalancer(new Uri(server.Url), bytesPerSecond: 2 * MiB);
        using var user = new CliUser();
        user.Environment["BERTH_URL"] = proxy.Url;
        user.Environment["BERTH_TOKEN"] = server.AdminToken;

        // Larger than one request takes (16 MiB), smaller than what is streamed while hashing: each goes through a
        // resumable session that the resume store remembers.
        var models = Enumerable.Range(0, Pushes).Select(i => new ModelFolder(($"w{i}.bin", (20 * MiB) + i))).ToList();
        try
        {
            var running = models.Select((m, i) => user.Start("push", m.Root, $"cache-uploads/m{i}")).ToList();
            await WaitForUploadsAsync(server.DataDirectory, Pushes, atLeast: 256 * 1024);
            foreach (var push in running)
            {
                await push.KillAsync();
                await push.DisposeAsync();
            }

            Assert.Equal(Pushes, Keys(Path.Combine(user.CacheDirectory, "uploads.json")).Count);

            proxy.SwitchTo(new Uri(server.Url), bytesPerSecond: 0);
            var again = await Task.WhenAll(models.Select((m, i) => user.RunAsync("push", m.Root, $"cache-uploads/m{i}", "--json")));
            foreach (var result in again)
            {
                var json = result.Succeeded().Json;
                Assert.InRange(json.GetProperty("bytesUploaded").GetInt64(), 0, (20 * MiB) + Pushes - (256 * 1024));
            }

            Assert.Empty(Keys(Path.Combine(user.CacheDirectory, "uploads.json")));
        }
        finally
        {
            models.ForEach(m => m.Dispose());
        }
    }

    private static List<string> Keys(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.EnumerateObject().Select(p => p.Name).ToList();
    }

    /// <summary>Waits until <paramref name="count"/> uploads in the data folder hold at least <paramref name="atLeast"/> bytes each.</summary>
    private static async Task WaitForUploadsAsync(string data, int count, long atLeast)
    {
        var uploads = Path.Combine(data, "store", "uploads");
        var clock = Stopwatch.StartNew();
        while (!Directory.Exists(uploads) ||
               Directory.EnumerateFiles(uploads, "data", SearchOption.AllDirectories).Count(f => new FileInfo(f).Length >= atLeast) < count)
        {
            Assert.True(clock.Elapsed < Deadline, $"{count} uploads did not reach {atLeast} bytes");
            await Task.Delay(20, Ct);
        }
    }
}
