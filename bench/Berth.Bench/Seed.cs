using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;

namespace Berth.Bench;

/// <summary>
/// Fills a migrated Berth database (SQLite or PostgreSQL) with a large, realistic registry for the scale
/// benchmark (bench/scale.sh): namespaces <c>scale-000</c>…, models <c>model-000001</c>… with tags, ready
/// versions with two files, metrics, params and tags, stages (the newest version of each model in
/// production, the one before in staging), aliases (<c>champion</c> on the newest, <c>candidate</c> on the
/// one before), and one model, <c>scale-000/big</c>, with many versions. Rows are exactly what a push and
/// commit write (manifests are canonical and their digests are right); audit entries and events are not
/// written, which leaves the audit chain and the outbox valid. The blobs the files point to (a pool of
/// 1,000) are recorded and, with <c>--blobs</c>, written to the store, so seeded versions can be pulled.
/// </summary>
/// <remarks>
/// Every value is a function of the version's index (a hash), so each table is generated in its own pass
/// and the passes agree; PostgreSQL needs that (one COPY per table).
/// </remarks>
internal static class Seed
{
    public const string Usage =
        "berth-bench seed --db <berth.db | data folder | PostgreSQL connection string> [--models 100000] [--versions 1000000]\n" +
        "                 [--big-model-versions 100000] [--namespaces 100] [--blobs <blob store folder>]";

    /// <summary>Version tag 'team': one of these, by namespace (so a team filter matches 5% of versions).</summary>
    public static readonly string[] Teams =
    [
        "risk", "fraud", "search", "ads", "vision", "speech", "nlp", "ranking", "growth", "pricing",
        "supply", "maps", "health", "security", "payments", "support", "music", "video", "games", "infra",
    ];

    private const int BlobPool = 1000;
    private static readonly string[] Optimizers = ["adam", "adamw", "sgd", "lion"];
    private static readonly string[] Rates = ["0.1", "0.01", "0.001", "0.0003", "0.0001"];
    private static readonly string[] Tasks = ["classification", "regression", "ranking", "detection", "generation"];

    public static async Task<int> RunAsync(Func<string, string?> option)
    {
        var db = option("--db") ?? throw new ArgumentException("--db is required");
        var plan = new Plan(
            Models: int.Parse(option("--models") ?? "100000", CultureInfo.InvariantCulture),
            Versions: long.Parse(option("--versions") ?? "1000000", CultureInfo.InvariantCulture),
            BigModelVersions: int.Parse(option("--big-model-versions") ?? "100000", CultureInfo.InvariantCulture),
            Namespaces: int.Parse(option("--namespaces") ?? "100", CultureInfo.InvariantCulture));
        if (plan.Models < 2 || plan.Namespaces < 1 || plan.BigModelVersions < 1 || plan.Versions - plan.BigModelVersions < plan.Models - 1)
        {
            throw new ArgumentException("Need at least 2 models and one version per model besides the big model's.");
        }

        var clock = Stopwatch.StartNew();
        await using var target = await BulkTarget.OpenAsync(db);
        var admin = await target.ScalarAsync("SELECT min(id) FROM users WHERE is_admin")
            ?? throw new InvalidOperationException("No administrator in this database: start 'berth serve' on it once first.");
        if (await target.ScalarAsync("SELECT count(*) FROM namespaces WHERE name = 'scale-000'") > 0)
        {
            throw new InvalidOperationException("This database is already seeded (namespace scale-000 exists); seed a fresh one.");
        }

        var ids = new Ids(
            Namespace: (await target.ScalarAsync("SELECT max(id) FROM namespaces") ?? 0) + 1,
            Model: (await target.ScalarAsync("SELECT max(id) FROM models") ?? 0) + 1,
            Version: (await target.ScalarAsync("SELECT max(id) FROM versions") ?? 0) + 1,
            Alias: (await target.ScalarAsync("SELECT max(id) FROM aliases") ?? 0) + 1);
        var blobs = Enumerable.Range(0, BlobPool).Select(i => Encoding.UTF8.GetBytes($"berth scale benchmark blob {i}\n")).ToArray();
        var digests = blobs.Select(b => Digest.Compute(b).ToString()).ToArray();
        Console.WriteLine($"seeding {target.Describe}: {plan.Namespaces} namespaces, {plan.Models} models, {plan.Versions} versions (one model with {plan.BigModelVersions})");

        if (option("--blobs") is { } store)
        {
            WriteBlobs(store, blobs, digests);
        }

        await target.BeginAsync();
        var start = new DateTime(2025, 11, 1, 0, 0, 0, DateTimeKind.Utc);
        var step = TimeSpan.FromDays(365).Ticks / plan.Versions;
        DateTime Created(long g) => start.AddTicks((g * step) - (g * step % 10)); // whole microseconds, as stored

        await Load(target, "namespaces", ["id", "name", "description", "created_at", "created_by_id"], async table =>
        {
            for (var n = 0; n < plan.Namespaces; n++)
            {
                await table.RowAsync(ids.Namespace + n, NamespaceName(n), $"Scale benchmark namespace {n} (team {Teams[n % Teams.Length]})", start, admin);
            }
        });

        var known = new bool[BlobPool]; // (PostgreSQL cannot query during a COPY: look first)
        for (var i = 0; i < BlobPool; i++)
        {
            known[i] = await target.ScalarAsync($"SELECT count(*) FROM blobs WHERE digest = '{digests[i]}'") > 0;
        }

        await Load(target, "blobs", ["digest", "size", "created_at", "last_used_at"], async table =>
        {
            for (var i = 0; i < BlobPool; i++)
            {
                if (!known[i])
                {
                    await table.RowAsync(digests[i], (long)blobs[i].Length, start, start);
                }
            }
        });

        await Load(target, "models", ["id", "namespace_id", "name", "description", "created_at", "updated_at", "last_version_number", "revision"], async table =>
        {
            for (var m = 0; m < plan.Models; m++)
            {
                var (first, count) = plan.VersionsOf(m);
                await table.RowAsync(ids.Model + m, ids.Namespace + plan.NamespaceOf(m), ModelName(m), $"Model {m} of the scale benchmark.",
                    Created(first), Created(first + count - 1), count, 1L);
            }
        });

        await Load(target, "model_tags", ["model_id", "key", "value"], async table =>
        {
            for (var m = 0; m < plan.Models; m++)
            {
                await table.RowAsync(ids.Model + m, "task", Tasks[m % Tasks.Length]);
                await table.RowAsync(ids.Model + m, "team", Teams[plan.NamespaceOf(m) % Teams.Length]);
            }
        });

        await Load(target, "versions", ["id", "model_id", "number", "sem_ver", "manifest_digest", "manifest", "state", "stage", "stage_changed_at",
            "total_size", "file_count", "created_at", "created_by_id", "ready_at", "revision", "run_id", "git_repository", "git_commit"], async table =>
        {
            foreach (var (m, number, count, g) in plan.All())
            {
                var files = Files(g, blobs, digests);
                var manifest = VersionManifest.Serialize(files);
                var stage = number == count ? "production" : number == count - 1 ? "staging" : null;
                var created = Created(g);
                await table.RowAsync(ids.Version + g, ids.Model + m, number, $"1.{number / 1000}.{number % 1000}", Digest.Compute(manifest).ToString(), manifest,
                    "ready", stage, stage is null ? null : created.AddMinutes(5), files.Sum(f => f.Size), files.Length, created, admin, created.AddSeconds(1), 1L,
                    $"run-{g:x8}", "https://git.example.com/ml/models.git", Convert.ToHexStringLower(SHA1.HashData(BitConverter.GetBytes(g))));
            }
        });

        await Load(target, "version_files", ["version_id", "path", "size", "digest", "media_type"], async table =>
        {
            foreach (var (_, _, _, g) in plan.All())
            {
                foreach (var file in Files(g, blobs, digests))
                {
                    await table.RowAsync(ids.Version + g, file.Path, file.Size, file.Digest, file.MediaType);
                }
            }
        });

        await Load(target, "version_metrics", ["version_id", "name", "value"], async table =>
        {
            foreach (var (_, _, _, g) in plan.All())
            {
                var quality = Unit(g, 1);
                await table.RowAsync(ids.Version + g, "accuracy", Math.Round(0.6 + (0.39 * quality), 6));
                if (Unit(g, 2) >= 0.05) // 5% of versions were pushed without an AUC
                {
                    await table.RowAsync(ids.Version + g, "auc", Math.Round(0.5 + (0.5 * Unit(g, 3)), 6));
                }

                await table.RowAsync(ids.Version + g, "loss", Math.Round(2 * (1 - quality) * Unit(g, 4), 6));
            }
        });

        await Load(target, "version_params", ["version_id", "name", "value"], async table =>
        {
            foreach (var (_, _, _, g) in plan.All())
            {
                await table.RowAsync(ids.Version + g, "epochs", ((int)(Unit(g, 5) * 100) + 1).ToString(CultureInfo.InvariantCulture));
                await table.RowAsync(ids.Version + g, "lr", Rates[(int)(Unit(g, 6) * Rates.Length)]);
                await table.RowAsync(ids.Version + g, "optimizer", Optimizers[(int)(Unit(g, 7) * Optimizers.Length)]);
            }
        });

        await Load(target, "version_tags", ["version_id", "key", "value"], async table =>
        {
            foreach (var (m, _, _, g) in plan.All())
            {
                await table.RowAsync(ids.Version + g, "dataset", $"ds-{(int)(Unit(g, 8) * 50):D2}");
                await table.RowAsync(ids.Version + g, "team", Teams[plan.NamespaceOf(m) % Teams.Length]);
                await table.RowAsync(ids.Version + g, "validated", Unit(g, 9) < 0.3 ? "true" : "false");
            }
        });

        await Load(target, "aliases", ["id", "model_id", "name", "version_id", "updated_at", "updated_by_id", "revision"], async table =>
        {
            var alias = ids.Alias;
            for (var m = 0; m < plan.Models; m++)
            {
                var (first, count) = plan.VersionsOf(m);
                var newest = first + count - 1;
                await table.RowAsync(alias++, ids.Model + m, "champion", ids.Version + newest, Created(newest).AddMinutes(5), admin, 1L);
                if (count > 1)
                {
                    await table.RowAsync(alias++, ids.Model + m, "candidate", ids.Version + newest - 1, Created(newest - 1).AddMinutes(5), admin, 1L);
                }
            }
        });

        Console.WriteLine($"committing ({clock.Elapsed.TotalSeconds:F0} s so far)");
        await target.FinishAsync(["namespaces", "models", "versions", "aliases"]);
        Console.WriteLine($"seeded in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    public static string NamespaceName(int n) => $"scale-{n:D3}";

    public static string ModelName(int m) => m == 0 ? "big" : $"model-{m:D6}";

    private static async Task Load(BulkTarget target, string name, string[] columns, Func<BulkTarget.Table, Task> rows)
    {
        var clock = Stopwatch.StartNew();
        long count;
        await using (var table = await target.TableAsync(name, columns))
        {
            await rows(table);
            count = table.Rows;
        }

        Console.WriteLine($"  {name}: {count} rows in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Two files per version; the pair of blobs differs between any two of the first million versions.</summary>
    private static FileEntry[] Files(long g, byte[][] blobs, string[] digests)
    {
        var weights = (int)(g % BlobPool);
        var config = (int)(g / BlobPool % BlobPool);
        return
        [
            new FileEntry("config.json", blobs[config].Length, digests[config], "application/json"),
            new FileEntry("model.safetensors", blobs[weights].Length, digests[weights]),
        ];
    }

    private static void WriteBlobs(string store, byte[][] blobs, string[] digests)
    {
        for (var i = 0; i < blobs.Length; i++)
        {
            var hex = digests[i]["sha256:".Length..];
            var folder = Path.Combine(store, "blobs", "sha256", hex[..2]);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, hex);
            if (!File.Exists(path))
            {
                File.WriteAllBytes(path, blobs[i]);
            }
        }
    }

    /// <summary>A uniform number in [0, 1) that depends only on (g, salt): SplitMix64.</summary>
    private static double Unit(long g, int salt)
    {
        var z = unchecked((ulong)g * 0x9E3779B97F4A7C15UL + ((ulong)salt * 0xBF58476D1CE4E5B9UL));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    private sealed record Ids(long Namespace, long Model, long Version, long Alias);

    /// <summary>
    /// Model 0 is the big model; the other versions are spread evenly over the other models. Versions are
    /// numbered 0… in model order (g), and a version's id is the first free id plus g.
    /// </summary>
    private sealed record Plan(int Models, long Versions, int BigModelVersions, int Namespaces)
    {
        private long Others => Versions - BigModelVersions;

        public int NamespaceOf(int m) => m % Namespaces;

        public (long First, int Count) VersionsOf(int m)
        {
            if (m == 0)
            {
                return (0, BigModelVersions);
            }

            var each = Others / (Models - 1);
            var extra = Others % (Models - 1);
            var index = m - 1L;
            var first = BigModelVersions + (index * each) + Math.Min(index, extra);
            return (first, (int)(each + (index < extra ? 1 : 0)));
        }

        public IEnumerable<(int Model, int Number, int Count, long G)> All()
        {
            for (var m = 0; m < Models; m++)
            {
                var (first, count) = VersionsOf(m);
                for (var n = 1; n <= count; n++)
                {
                    yield return (m, n, count, first + n - 1);
                }
            }
        }
    }
}
