using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// The crash soak: <c>berth push</c> (small and multi-MiB files, some shared between pushes), pulls, stage changes, alias
/// moves, deletions and garbage collection run as CLI processes while the server is killed with SIGKILL at random
/// moments and restarted on the same data folder and database. A command that fails is run again once the server is
/// back, as a user would. Afterwards every acknowledged change is there, every blob a ready version needs is whole,
/// nothing is left half-written, the audit chain verifies, and once the expiry times have passed (the data is aged
/// while the server is down) upload leftovers, abandoned pending versions and unreferenced blobs are all gone.
/// The random choices (contents, operations, kill moments) come from a seed printed at the start; set
/// <c>BERTH_SOAK_SEED</c> to make the same choices again (the interleaving with the server still depends on timing).
/// </summary>
[Trait("Database", "both")]
public sealed class CrashSoakTests
{
    public const string SeedVariable = "BERTH_SOAK_SEED";

    /// <summary>Kills while the clients work; one more precedes the check after the expiry times.</summary>
    private const int Kills = 4;
    private const int Pushers = 2;
    private const int MaxAttempts = 12;
    private const int MiB = 1024 * 1024;
    private const string Namespace = "soak";
    private static readonly string[] Models = ["alpha", "beta", "churn"];
    private static readonly string[] Stages = ["staging", "production", "archived"];
    private static readonly TimeSpan ProgressDeadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AcknowledgedWorkSurvivesServerKillsAndNothingIsLeftHalfWritten()
    {
        var seed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } given
            ? int.Parse(given, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        Output($"Crash soak: seed {seed} ({(TestDatabase.IsPostgres ? "PostgreSQL" : "SQLite")}); replay its choices with {SeedVariable}={seed}");
        var clock = Stopwatch.StartNew();
        await using var server = await RestartableServer.StartAsync(new Dictionary<string, string>
        {
            // Deleted and failed versions are purged by the next collection, so the soak's collections have work.
            ["BERTH_Registry__PurgeDelay"] = "00:00:00",
            // Without the OCI manifests built in the background, whose config blobs it would count too (or not, by timing).
            ["BERTH_Oci__BuildInBackground"] = "false",
        }, Ct);
        var soak = new Soak(server, seed);
        try
        {
            await soak.RunAsync();
            await soak.CheckAcknowledgedWorkAsync();
            await soak.CheckAfterExpiryAsync();
        }
        catch
        {
            Output($"Crash soak with seed {seed} failed. What happened:\n{soak.Timeline}\nServer log:\n{server.Log}");
            throw;
        }

        Output($"Crash soak ({(TestDatabase.IsPostgres ? "PostgreSQL" : "SQLite")}, seed {seed}): {server.Kills} kills in {clock.Elapsed.TotalSeconds:F1} s; {soak.Summary}");
        Output(soak.Timeline);
    }

    private static void Output(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    private sealed record ExpectedFile(string Path, long Size, string Digest);

    private sealed record Acked(string Model, int Number, string ManifestDigest, IReadOnlyList<ExpectedFile> Files);

    /// <summary>One run of the soak: the clients, the killer, what was acknowledged, and the checks.</summary>
    private sealed class Soak(RestartableServer server, int seed)
    {
        private readonly ConcurrentQueue<Acked> _pushes = new();
        private readonly ConcurrentDictionary<(string Model, int Number), string> _stages = new();
        private readonly ConcurrentDictionary<string, int> _champions = new();
        private readonly ConcurrentDictionary<(string Model, int Number), bool> _deleted = new();
        private readonly ConcurrentQueue<CliResult> _failures = new();
        private readonly byte[][] _shared = [.. Enumerable.Range(0, 3).Select(i => ModelFolder.Bytes((1 * MiB) + (i * 300_000), seed + i))];
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly ConcurrentQueue<string> _timeline = new();
        private int _acknowledged;
        private int _retried;
        private int _pulls;
        private int _collections;
        private int _midUploadKills;
        private int _sweptAtTheEnd;

        public string Summary =>
            $"{_pushes.Count} pushes acknowledged ({_retried} commands needed a retry), {_stages.Count} versions staged, {_champions.Count} aliases moved, " +
            $"{_deleted.Count} versions deleted, {_pulls} pulls, {_collections} collections swept, {_midUploadKills} kills during an upload, " +
            $"{_failures.Count} failed attempts, {_sweptAtTheEnd} blobs swept after the expiry";

        /// <summary>What happened when, in seconds since the start: kills, restarts and every command with its duration.</summary>
        public string Timeline => string.Join("\n", _timeline);

        private void Note(string what) => _timeline.Enqueue($"{_clock.Elapsed.TotalSeconds,6:F1} {what}");

        public async Task RunAsync()
        {
            var pushers = Enumerable.Range(0, Pushers).Select(i => Task.Run(() => PushLoopAsync(i), Ct)).ToList();
            var mutator = Task.Run(MutateLoopAsync, Ct);
            var collector = Task.Run(CollectLoopAsync, Ct);
            var clients = Task.WhenAll([.. pushers, mutator, collector]);
            try
            {
                await KillLoopAsync(clients);
            }
            finally
            {
                // Each client finishes what it is doing (retrying until acknowledged) and stops.
                await _stop.CancelAsync();
            }

            await clients.WaitAsync(TimeSpan.FromMinutes(2), Ct);
            Assert.True(_pushes.Count >= Kills / 2, $"Only {_pushes.Count} pushes were acknowledged: the soak proves too little.");
            Assert.NotEmpty(_stages);
            Assert.NotEmpty(_champions);
            Assert.True(_pulls > 0, "No pull was made.");
            Assert.NotEmpty(_deleted);

            // Every failure a client saw is what a dying server causes, never an error of the registry itself.
            var unexpected = _failures.Where(f => !IsCrashSymptom(f)).ToList();
            Assert.True(unexpected.Count == 0, $"Failures that a crash does not explain:\n{string.Join("\n", unexpected)}");
        }

        /// <summary>
        /// Kills the server <see cref="Kills"/> times and restarts it. Odd rounds kill while a large file streams into a
        /// resumable upload (which the next attempt resumes); even rounds at a random moment after a push was acknowledged
        /// since the restart.
        /// </summary>
        private async Task KillLoopAsync(Task clients)
        {
            var random = new Random(seed);
            for (var round = 1; round <= Kills; round++)
            {
                if (round % 2 == 1)
                {
                    await WaitForGrowingUploadAsync(clients);
                    await Task.Delay(random.Next(0, 200), Ct);
                    _midUploadKills++;
                }
                else
                {
                    var before = _pushes.Count;
                    await WaitUntilAsync(() => _pushes.Count > before, clients, "no push was acknowledged after a restart");
                    await Task.Delay(random.Next(0, 2000), Ct);
                }

                await server.KillAsync();
                Note($"killed ({round})");
                await server.RestartAsync(Ct);
                Note("up again");
            }
        }

        /// <summary>
        /// Waits until an upload holding more than 8 MiB grows: a request is streaming a file of over 16 MiB (only those are
        /// larger than 8 MiB) into a resumable session right now.
        /// </summary>
        private async Task WaitForGrowingUploadAsync(Task clients)
        {
            var first = UploadLengths();
            await WaitUntilAsync(() => UploadLengths().Any(u => u.Value > 8 * MiB && u.Value > first.GetValueOrDefault(u.Key)), clients, "no large upload was streaming");
        }

        private Dictionary<string, long> UploadLengths()
        {
            var lengths = new Dictionary<string, long>(StringComparer.Ordinal);
            try
            {
                foreach (var file in Directory.EnumerateFiles(Path.Combine(server.DataDirectory, "store", "uploads"), "*", SearchOption.AllDirectories))
                {
                    lengths[file] = new FileInfo(file).Length;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A folder removed while it was listed: the next look sees the rest.
            }

            return lengths;
        }

        /// <summary>Polls <paramref name="condition"/> until it holds; fails after <see cref="ProgressDeadline"/> or if a client failed.</summary>
        private static async Task WaitUntilAsync(Func<bool> condition, Task clients, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                if (clients.IsFaulted)
                {
                    await clients;
                }

                Assert.True(clock.Elapsed < ProgressDeadline, $"For {ProgressDeadline.TotalSeconds} s {what}.");
                await Task.Delay(20, Ct);
            }
        }

        private async Task PushLoopAsync(int worker)
        {
            using var user = User();
            var random = new Random(seed + 1000 + worker);
            for (var index = 0; !_stop.IsCancellationRequested; index++)
            {
                // Each pusher's first push goes to a model that keeps its versions, so the mutator has work from the start, and
                // its second to the model whose versions are deleted.
                var model = index switch
                {
                    0 => Models[worker % 2],
                    1 => "churn",
                    _ => Models[random.Next(Models.Length)],
                };
                using var folder = new ModelFolder();
                var files = new List<ExpectedFile>();
                void Add(string path, byte[] bytes)
                {
                    File.WriteAllBytes(Path.Combine(folder.Root, path), bytes);
                    files.Add(new ExpectedFile(path, bytes.Length, ModelFolder.Sha256(bytes)));
                }

                // Unique content (a push of known content would be "unchanged"); weights that go, every other push, through a
                // resumable session (above 16 MiB), else in one request; and often a blob that other pushes share.
                Add("meta.json", Encoding.UTF8.GetBytes($"{{\"seed\":{seed},\"worker\":{worker},\"push\":{index}}}"));
                var size = index % 2 == 0 ? random.Next(17 * MiB, 26 * MiB)
                    : random.Next(2) == 0 ? random.Next(2 * MiB, 8 * MiB)
                    : random.Next(10_000, 300_000);
                Add("weights.bin", ModelFolder.Bytes(size, random.Next()));
                if (random.Next(3) > 0)
                {
                    Add("vocab.bin", _shared[random.Next(_shared.Length)]);
                }

                var pushed = (await UntilAcknowledgedAsync(user, null, "push", folder.Root, $"{Namespace}/{model}", "--json")).Json.GetProperty("version");
                Assert.Equal("ready", pushed.GetProperty("state").GetString());
                _pushes.Enqueue(new Acked(model, pushed.GetProperty("number").GetInt32(), pushed.GetProperty("manifestDigest").GetString()!, files));
            }
        }

        /// <summary>Stage changes, alias moves, pulls and deletions of acknowledged versions, one at a time.</summary>
        private async Task MutateLoopAsync()
        {
            using var user = User();
            var random = new Random(seed + 2000);
            var folders = 0;
            // The first operations are one of each kind, and the mutator does them all even if asked to stop earlier. A
            // deletion needs a version of "churn": every pusher's second push goes there, so one comes once a push was
            // acknowledged (which every kill round but the first waits for).
            var first = new Queue<int>([0, 3, 5, 9]);
            while (!_stop.IsCancellationRequested || first.Count > 0)
            {
                var live = _pushes.Where(p => !_deleted.ContainsKey((p.Model, p.Number))).ToList();
                var kept = live.Where(p => p.Model != "churn").ToList();
                var churn = live.Where(p => p.Model == "churn").ToList();
                if (kept.Count == 0 || (first.Count > 0 && first.Peek() == 9 && churn.Count == 0 && _stop.IsCancellationRequested))
                {
                    await WaitForPushAsync(_pushes.Count);
                    continue;
                }

                var version = kept[random.Next(kept.Count)];
                var reference = $"{Namespace}/{version.Model}:{version.Number}";
                var kind = random.Next(10);
                if (first.Count > 0 && (first.Peek() != 9 || churn.Count > 0))
                {
                    kind = first.Dequeue();
                }

                switch (kind)
                {
                    case < 3:
                        var stage = Stages[random.Next(Stages.Length)];
                        await UntilAcknowledgedAsync(user, null, "stage", reference, stage);
                        _stages[(version.Model, version.Number)] = stage;
                        break;
                    case < 5:
                        await UntilAcknowledgedAsync(user, null, "alias", "set", reference, "champion");
                        _champions[version.Model] = version.Number;
                        break;
                    case < 8:
                        var pull = live[random.Next(live.Count)];
                        var output = Path.Combine(user.Root, $"pull-{folders++}");
                        await UntilAcknowledgedAsync(user, null, "pull", $"{Namespace}/{pull.Model}:{pull.Number}", "-o", output);
                        AssertFolderHolds(output, pull.Files);
                        TempFolder.Delete(output);
                        Interlocked.Increment(ref _pulls);
                        break;
                    default:
                        if (churn.Count == 0)
                        {
                            break;
                        }

                        // A retry after a lost answer finds the version already deleted: that is the acknowledgement.
                        var victim = churn[random.Next(churn.Count)];
                        await UntilAcknowledgedAsync(user, (failed, attempt) => attempt > 1 && failed.Stderr.Contains("(version_deleted)", StringComparison.Ordinal),
                            "rm", $"{Namespace}/churn:{victim.Number}");
                        _deleted[("churn", victim.Number)] = true;
                        break;
                }
            }
        }

        private async Task WaitForPushAsync(int seen)
        {
            var clock = Stopwatch.StartNew();
            while (_pushes.Count <= seen)
            {
                Assert.True(clock.Elapsed < ProgressDeadline, $"For {ProgressDeadline.TotalSeconds} s no push was acknowledged.");
                await Task.Delay(20, Ct);
            }
        }

        private async Task CollectLoopAsync()
        {
            using var user = User();
            var random = new Random(seed + 3000);
            while (!_stop.IsCancellationRequested)
            {
                await server.WaitUpAsync(Ct);
                var started = _clock.Elapsed;
                var run = await user.RunAsync("gc", "--json");
                Note($"gc: exit {run.ExitCode} after {(_clock.Elapsed - started).TotalSeconds:F1} s");
                if (run.ExitCode != 0)
                {
                    _failures.Enqueue(run);
                }
                else if (run.Json.GetProperty("swept").GetBoolean())
                {
                    Interlocked.Increment(ref _collections);
                    Interlocked.Increment(ref _acknowledged);
                }

                try
                {
                    await Task.Delay(random.Next(1500, 4000), _stop.Token);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested && !Ct.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        /// <summary>
        /// Runs a command until it succeeds, as a user would: after a failure, wait until the server is back, then run the
        /// same command again. <paramref name="done"/> may accept a failure as the acknowledgement of an earlier attempt.
        /// </summary>
        private async Task<CliResult> UntilAcknowledgedAsync(CliUser user, Func<CliResult, int, bool>? done, params string[] args)
        {
            for (var attempt = 1; ; attempt++)
            {
                await server.WaitUpAsync(Ct);
                var started = _clock.Elapsed;
                var result = await user.RunAsync(args);
                Note($"{args[0]} {(args[0] == "push" ? args[2] : args[1])}: exit {result.ExitCode} after {(_clock.Elapsed - started).TotalSeconds:F1} s");
                if (result.ExitCode == 0 || done?.Invoke(result, attempt) == true)
                {
                    Interlocked.Increment(ref _acknowledged);
                    if (attempt > 1)
                    {
                        Interlocked.Increment(ref _retried);
                    }

                    return result;
                }

                _failures.Enqueue(result);
                Assert.True(attempt < MaxAttempts, $"Gave up after {attempt} attempts: {result}");
            }
        }

        /// <summary>
        /// What a killed or restarting server makes the CLI say: the connection failed or broke off, or the server
        /// answered that it is not ready yet. Any other error (a 500, a digest mismatch, a missing blob …) is a defect.
        /// </summary>
        private static bool IsCrashSymptom(CliResult failure) =>
            failure.Stderr.Contains("Cannot reach the Berth server", StringComparison.Ordinal) ||
            failure.Stderr.Contains("The request to the Berth server at", StringComparison.Ordinal) ||
            failure.Stderr.Contains("(service_unavailable)", StringComparison.Ordinal);

        /// <summary>
        /// With the server up and the clients stopped: every acknowledged push is ready with its manifest and downloads byte
        /// for byte; the last acknowledged stage and alias of each version hold; deleted versions stay deleted; every blob a
        /// ready version references is recorded and whole; the blob area holds nothing else; every upload folder belongs to a
        /// live session; and the audit chain verifies.
        /// </summary>
        public async Task CheckAcknowledgedWorkAsync()
        {
            Note("clients stopped; checking");
            using var http = Http();
            foreach (var pushed in _pushes)
            {
                var path = $"/api/v1/models/{Namespace}/{pushed.Model}/versions/{pushed.Number}";
                using var response = await http.GetAsync($"{path}?files=true", Ct);
                var body = await response.Content.ReadAsStringAsync(Ct);
                if (_deleted.ContainsKey((pushed.Model, pushed.Number)))
                {
                    Assert.True(response.StatusCode == HttpStatusCode.Gone, $"Deleted {pushed.Model}:{pushed.Number}: {(int)response.StatusCode} {body}");
                    continue;
                }

                Assert.True(response.StatusCode == HttpStatusCode.OK, $"Acknowledged {pushed.Model}:{pushed.Number}: {(int)response.StatusCode} {body}");
                var version = JsonDocument.Parse(body).RootElement;
                Assert.Equal("ready", version.GetProperty("state").GetString());
                Assert.Equal(pushed.ManifestDigest, version.GetProperty("manifestDigest").GetString());
                var files = version.GetProperty("files").EnumerateArray()
                    .Select(f => new ExpectedFile(f.GetProperty("path").GetString()!, f.GetProperty("size").GetInt64(), f.GetProperty("digest").GetString()!));
                Assert.Equal(pushed.Files.OrderBy(f => f.Path, StringComparer.Ordinal), files.OrderBy(f => f.Path, StringComparer.Ordinal));
                foreach (var file in pushed.Files)
                {
                    await using var stream = await http.GetStreamAsync($"{path}/files/{file.Path}", Ct);
                    Assert.Equal(file.Digest, "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, Ct)));
                }

                var stage = version.GetProperty("stage");
                Assert.Equal(_stages.GetValueOrDefault((pushed.Model, pushed.Number)), stage.ValueKind == JsonValueKind.Null ? null : stage.GetString());
                var isChampion = version.GetProperty("aliases").EnumerateArray().Any(a => a.GetString() == "champion");
                Assert.True(isChampion == (_champions.TryGetValue(pushed.Model, out var champion) && champion == pushed.Number),
                    $"{pushed.Model}:{pushed.Number} is {(isChampion ? "" : "not ")}the champion; the last acknowledged move was to {champion}.");
            }

            // A push whose answer was lost is acknowledged by the next attempt ("unchanged", the same version): so the ready
            // versions are exactly the acknowledged ones.
            var ready = await ColumnAsync("SELECT m.name || ':' || CAST(v.number AS varchar(12)) FROM versions v JOIN models m ON m.id = v.model_id WHERE v.state = 'ready'");
            Assert.Equal(_pushes.Where(p => !_deleted.ContainsKey((p.Model, p.Number))).Select(p => $"{p.Model}:{p.Number}").Order(StringComparer.Ordinal), ready.Order(StringComparer.Ordinal));

            var needed = await ColumnAsync("SELECT DISTINCT f.digest FROM version_files f JOIN versions v ON v.id = f.version_id WHERE v.state = 'ready'");
            var recorded = await ColumnAsync("SELECT digest FROM blobs WHERE deleting_at IS NULL");
            var stored = DataFolderChecks.AssertBlobAreaHoldsOnlyCompleteBlobs(server.DataDirectory);
            Assert.Empty(needed.Except(recorded));
            Assert.Empty(needed.Except(stored));

            var sessions = await ColumnAsync("SELECT id FROM upload_sessions WHERE expires_at > @now", ("now", DateTime.UtcNow));
            Assert.Empty(DataFolderChecks.Uploads(server.DataDirectory).Keys.Except(sessions));
            Assert.Equal(0L, await CountAsync("SELECT COUNT(*) FROM versions WHERE state = 'pending' AND created_at < @cutoff", ("cutoff", DateTime.UtcNow.AddHours(-24))));

            using var admin = Admin();
            (await admin.RunAsync("audit", "verify")).Succeeded();
        }

        /// <summary>
        /// A day later (the data aged while the server is down once more): start-up maintenance expires every upload session
        /// and fails every abandoned pending version; a collection purges and sweeps; then no upload is left, no version is
        /// pending, and the stored blobs are exactly those of the ready versions: nothing was lost and nothing leaked.
        /// </summary>
        public async Task CheckAfterExpiryAsync()
        {
            Note("checked; killing to age the data");
            await server.KillAsync();
            var past = DateTime.UtcNow.AddDays(-2);
            await ExecuteAsync("UPDATE upload_sessions SET created_at = @past, updated_at = @past, expires_at = @past", past);
            await ExecuteAsync("UPDATE versions SET created_at = @past WHERE state = 'pending'", past);
            await ExecuteAsync("UPDATE blobs SET created_at = @past, last_used_at = @past", past);
            await ExecuteAsync("UPDATE leases SET until = @past WHERE until IS NOT NULL", past);
            var store = Path.Combine(server.DataDirectory, "store");
            foreach (var entry in Directory.EnumerateFileSystemEntries(store, "*", SearchOption.AllDirectories).Prepend(store))
            {
                File.SetLastWriteTimeUtc(entry, past);
            }

            await server.RestartAsync(Ct);
            Note("up again after the expiry");
            var clock = Stopwatch.StartNew();
            while (await CountAsync("SELECT COUNT(*) FROM upload_sessions") + await CountAsync("SELECT COUNT(*) FROM versions WHERE state = 'pending'") > 0)
            {
                Assert.True(clock.Elapsed < ProgressDeadline, "Start-up maintenance did not expire the sessions and pending versions.");
                await Task.Delay(50, Ct);
            }

            Note("maintenance expired the sessions and pending versions");
            using var admin = Admin();
            var gc = (await admin.RunAsync("gc", "--json")).Succeeded().Json;
            Note("collected");
            Assert.True(gc.GetProperty("swept").GetBoolean(), $"The collection after the expiry did not sweep: {gc}");
            _sweptAtTheEnd = gc.GetProperty("blobs").GetInt32() + gc.GetProperty("orphanFiles").GetInt32();

            Assert.Empty(DataFolderChecks.Uploads(server.DataDirectory));
            Assert.Equal(0L, await CountAsync("SELECT COUNT(*) FROM upload_sessions"));
            Assert.Equal(0L, await CountAsync("SELECT COUNT(*) FROM blobs WHERE deleting_at IS NOT NULL"));
            var needed = (await ColumnAsync("SELECT DISTINCT f.digest FROM version_files f JOIN versions v ON v.id = f.version_id WHERE v.state = 'ready'")).Order(StringComparer.Ordinal).ToList();
            var referenced = (await ColumnAsync("SELECT DISTINCT digest FROM version_files")).Order(StringComparer.Ordinal);
            Assert.Equal(needed, referenced);
            Assert.Equal(needed, (await ColumnAsync("SELECT digest FROM blobs")).Order(StringComparer.Ordinal));
            Assert.Equal(needed, DataFolderChecks.AssertBlobAreaHoldsOnlyCompleteBlobs(server.DataDirectory).Order(StringComparer.Ordinal));
            Assert.Superset(_pushes.Where(p => !_deleted.ContainsKey((p.Model, p.Number))).SelectMany(p => p.Files).Select(f => f.Digest).ToHashSet(), needed.ToHashSet());

            // The blob of each deleted version's own file (meta.json is unique to a push) is gone.
            var deletedOwn = _pushes.Where(p => _deleted.ContainsKey((p.Model, p.Number))).Select(p => p.Files.Single(f => f.Path == "meta.json").Digest).ToList();
            Assert.NotEmpty(deletedOwn);
            Assert.Empty(deletedOwn.Intersect(needed));
            Assert.True(gc.GetProperty("blobs").GetInt32() >= deletedOwn.Count, $"The collection after the expiry swept too little: {gc}");

            // And pulls still give every model's last acknowledged version byte for byte.
            foreach (var last in _pushes.Where(p => !_deleted.ContainsKey((p.Model, p.Number))).GroupBy(p => p.Model).Select(g => g.Last()))
            {
                var output = Path.Combine(admin.Root, $"final-{last.Model}");
                (await admin.RunAsync("pull", $"{Namespace}/{last.Model}:{last.Number}", "-o", output)).Succeeded();
                AssertFolderHolds(output, last.Files);
            }

            (await admin.RunAsync("audit", "verify")).Succeeded();
        }

        private static void AssertFolderHolds(string folder, IReadOnlyList<ExpectedFile> files)
        {
            var actual = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Select(f => new ExpectedFile(Path.GetRelativePath(folder, f), new FileInfo(f).Length, ModelFolder.Sha256(File.ReadAllBytes(f))))
                .OrderBy(f => f.Path, StringComparer.Ordinal);
            Assert.Equal(files.OrderBy(f => f.Path, StringComparer.Ordinal), actual);
        }

        /// <summary>A CLI user of the administrator's token, with its own configuration and cache.</summary>
        private CliUser User()
        {
            var user = new CliUser();
            user.Environment["BERTH_URL"] = server.Url;
            user.Environment["BERTH_TOKEN"] = server.AdminToken;
            return user;
        }

        private CliUser Admin() => User();

        private HttpClient Http()
        {
            var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(60) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
            return http;
        }

        private async Task ExecuteAsync(string sql, DateTime past) => await server.Database.ExecuteAsync(sql, Ct, ("past", past));

        private async Task<long> CountAsync(string sql, params (string Name, object Value)[] parameters) =>
            Convert.ToInt64(await server.Database.ScalarAsync(sql, Ct, parameters), CultureInfo.InvariantCulture);

        private async Task<HashSet<string>> ColumnAsync(string sql, params (string Name, object Value)[] parameters)
        {
            await using var connection = server.Database.CreateConnection();
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value;
                command.Parameters.Add(parameter);
            }

            var values = new HashSet<string>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                values.Add(reader.GetString(0));
            }

            return values;
        }
    }
}
