using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// The server killed with SIGKILL in the middle of an upload: after a restart the upload resumes from
/// its durable offset, no partial blob is ever in the blob store or served, and the push completes.
/// </summary>
public sealed class CrashRecoveryTests
{
    private const int MiB = 1024 * 1024;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnUploadResumesFromItsDurableOffsetAfterTheServerIsKilled()
    {
        var bytes = new byte[24 * MiB];
        new Random(42).NextBytes(bytes);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

        var first = await ServerProcess.StartAsync(fsync: true, Ct);
        var data = first.DataDirectory;
        string location;
        using (var http = Client(first))
        {
            using var start = await http.PostAsync("/api/v1/models/crash/model/uploads", null, Ct);
            location = (await start.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("location").GetString()!;

            // Send 12 MiB of the body, then keep the request open, as a client on a slow link would.
            var content = new StalledContent(bytes, 12 * MiB);
            using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = content };
            request.Headers.Add("Upload-Offset", "0");
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var patch = http.SendAsync(request, stop.Token);
            await content.Stalled.WaitAsync(Deadline, Ct);
            await WaitForOffsetAsync(first, location, atLeast: 4 * MiB);

            await first.KillAsync();
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => patch);
        }

        await using var second = await first.RestartAsync(Ct);
        using var client = Client(second);
        var offset = await OffsetAsync(client, location);
        Assert.InRange(offset, 4 * MiB, 12 * MiB);

        // What the server kept is exactly a prefix of what was sent, and nothing reached the blob area.
        var uploadFile = Path.Combine(data, "store", "uploads", location[(location.LastIndexOf('/') + 1)..], "data");
        Assert.Equal(bytes.AsSpan(0, (int)offset).ToArray(), await File.ReadAllBytesAsync(uploadFile, Ct));
        AssertEveryStoredBlobIsComplete(data);
        await AssertMissingAsync(client, digest);

        using (var rest = new ByteArrayContent(bytes, (int)offset, bytes.Length - (int)offset))
        {
            rest.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = rest };
            request.Headers.Add("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var resumed = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        }

        using (var finish = await client.PutAsync($"{location}?digest={digest}&size={bytes.Length}", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, finish.StatusCode);
        }

        var declared = JsonSerializer.Serialize(new { files = new[] { new { path = "weights.bin", size = bytes.Length, digest } } });
        using (var create = await client.PostAsync("/api/v1/models/crash/model/versions", new StringContent(declared, System.Text.Encoding.UTF8, "application/json"), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
            Assert.Empty((await create.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("missingBlobs").EnumerateArray());
        }

        using (var commit = await client.PostAsync("/api/v1/models/crash/model/versions/1/commit", null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, commit.StatusCode);
        }

        Assert.Equal(bytes, await client.GetByteArrayAsync("/api/v1/models/crash/model/versions/1/files/weights.bin", Ct));
        AssertEveryStoredBlobIsComplete(data, atLeast: 1);
    }

    /// <param name="digestsKnown">
    /// True: the digests are in the local cache, so the push declares the version first and then uploads.
    /// False: the big file is hashed and streamed at the same time. Both must resume.
    /// </param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task APushInterruptedByAServerCrashResumesWhenRunAgain(bool digestsKnown)
    {
        using var model = new ModelFolder(("weights.bin", 96 * MiB), ("config.json", 512));
        foreach (var file in Directory.EnumerateFiles(model.Root))
        {
            // Old enough for the digest cache to trust (it distrusts files written within 2 s of hashing).
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-5));
        }

        using var user = new CliUser();
        var first = await ServerProcess.StartAsync(fsync: true, Ct);
        var data = first.DataDirectory;
        await user.LoginAsync(first);
        if (digestsKnown)
        {
            // Fill the local digest cache by pushing the folder to another, throwaway server.
            await using var other = await ServerProcess.StartAsync(Ct);
            var elsewhere = new Dictionary<string, string?> { ["BERTH_URL"] = other.Url, ["BERTH_TOKEN"] = other.AdminToken };
            (await user.RunWithAsync(elsewhere, "push", model.Root, "crash/elsewhere", "--json")).Succeeded();
            Assert.True(File.Exists(Path.Combine(user.CacheDirectory, "digests.json")));
        }

        // Start the push as a process, and kill the server once part of the big file has arrived.
        var push = user.RunAsync("push", model.Root, "crash/push", "--version", "1.0.0", "--json");
        await WaitForUploadBytesAsync(data, atLeast: 8 * MiB);
        await first.KillAsync();
        var interrupted = await push;
        Assert.NotEqual(0, interrupted.ExitCode);
        AssertEveryStoredBlobIsComplete(data);

        await using var second = await first.RestartAsync(Ct);
        if (!digestsKnown)
        {
            File.Delete(Path.Combine(user.CacheDirectory, "digests.json"));
        }

        // Nothing of the interrupted push can be pulled: the big file was still streaming when the
        // server died, so no version of the model is ready.
        var missing = await user.RunAsync("pull", "crash/push:1.0.0", "-o", Path.Combine(user.Root, "early"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Matches(@"\((namespace_not_found|model_not_found|version_not_found|version_not_ready)\)", missing.Stderr);

        var again = (await user.RunAsync("push", model.Root, "crash/push", "--version", "1.0.0", "--json")).Succeeded();
        Assert.Equal("ready", again.Json.GetProperty("version").GetProperty("state").GetString());
        Assert.Equal(1, again.Json.GetProperty("version").GetProperty("number").GetInt32());

        // The second push resumed the big file from what the server held when it died.
        var sent = again.Json.GetProperty("bytesUploaded").GetInt64();
        Assert.InRange(sent, 512, (96 * MiB) - (8 * MiB) + 512);

        var output = Path.Combine(user.Root, "pulled");
        (await user.RunAsync("pull", "crash/push:1.0.0", "-o", output)).Succeeded();
        ModelFolder.AssertSameTree(model.Root, output);
        AssertEveryStoredBlobIsComplete(data, atLeast: 2);
    }

    /// <summary>
    /// Every file in the blob area hashes to its name: no partial or corrupt blob, ever. The server creates the
    /// folder at start-up, so a missing one means the check looks in the wrong place and must fail, not pass
    /// having checked nothing; <paramref name="atLeast"/> is how many blobs the caller knows were stored.
    /// </summary>
    private static void AssertEveryStoredBlobIsComplete(string data, int atLeast = 0)
    {
        var blobs = Path.Combine(data, "store", "blobs", "sha256");
        Assert.True(Directory.Exists(blobs), $"There is no blob folder at {blobs}.");
        var files = Directory.GetFiles(blobs, "*", SearchOption.AllDirectories);
        Assert.True(files.Length >= atLeast, $"{files.Length} blobs in {blobs}, expected at least {atLeast}.");
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            Assert.Equal(Path.GetFileName(file), Convert.ToHexStringLower(SHA256.HashData(stream)));
        }
    }

    private static async Task AssertMissingAsync(HttpClient client, string digest)
    {
        var body = JsonSerializer.Serialize(new { digests = new[] { digest } });
        using var response = await client.PostAsync("/api/v1/blobs/check", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);
        var missing = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("missing").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal([digest], missing);
    }

    private static HttpClient Client(ServerProcess server)
    {
        var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = Deadline };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        return http;
    }

    private static async Task<long> OffsetAsync(HttpClient client, string location)
    {
        using var response = await client.GetAsync(location, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return long.Parse(response.Headers.GetValues("Upload-Offset").Single(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitForOffsetAsync(ServerProcess server, string location, long atLeast)
    {
        using var client = Client(server);
        var clock = Stopwatch.StartNew();
        while (await OffsetAsync(client, location) < atLeast)
        {
            Assert.True(clock.Elapsed < Deadline, $"the upload did not reach {atLeast} bytes");
            await Task.Delay(20, Ct);
        }
    }

    /// <summary>Waits until some upload in the data folder holds at least <paramref name="atLeast"/> bytes.</summary>
    private static async Task WaitForUploadBytesAsync(string data, long atLeast)
    {
        var uploads = Path.Combine(data, "store", "uploads");
        var clock = Stopwatch.StartNew();
        while (!Directory.Exists(uploads) ||
               !Directory.EnumerateFiles(uploads, "data", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length >= atLeast))
        {
            Assert.True(clock.Elapsed < Deadline, $"no upload reached {atLeast} bytes");
            await Task.Delay(10, Ct);
        }
    }

    /// <summary>A request body that sends its first part, then hangs until the connection dies.</summary>
    private sealed class StalledContent(byte[] bytes, int sendFirst) : HttpContent
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Stalled => _stalled.Task;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(bytes.AsMemory(0, sendFirst), cancellationToken);
            await stream.FlushAsync(cancellationToken);
            _stalled.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }
}
