using System.Diagnostics;
using System.Globalization;
using Berth.Core.Audit;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Data.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

// berth-bench seed-audit --data <folder> --entries <n>
//   Appends n entries to the audit log of a Berth data folder (migrating it first if needed), chained
//   exactly as the server chains them, so that 'berth audit verify' has a large, valid log to check.
// berth-bench webhook-burst --url <server> --token <admin token> [--promotions 1000] [--endpoints 10] [--concurrency 8]
//   Subscribes local receivers to stage changes, fires a burst of promotions and reports how long each
//   event took from its commit to its delivery at every receiver (see WebhookBurst.cs).
// berth-bench seed --db <berth.db | data folder | PostgreSQL connection string> [--models n] [--versions n] ...
//   Fills a migrated database with a large registry for bench/scale.sh (see Seed.cs).
// berth-bench scale-latency --url <server> --token <token>   (ScaleLatency.cs)
// berth-bench insight --folder <dir> [--runs n]   (InsightBench.cs, bench/insight.sh)
// berth-bench push-load --urls <url>[,<url>...] --token <token> [--clients n] [--seconds n]   (PushLoad.cs)
if (args is ["seed", ..])
{
    return await Berth.Bench.Seed.RunAsync(Option);
}

if (args is ["scale-latency", ..])
{
    return await Berth.Bench.ScaleLatency.RunAsync(Option);
}

if (args is ["push-load", ..])
{
    return await Berth.Bench.PushLoad.RunAsync(Option);
}

if (args is ["run-metrics", ..])
{
    return await Berth.Bench.RunMetrics.RunAsync(Option);
}

if (args is ["insight", ..])
{
    return await Berth.Bench.InsightBench.RunAsync(Option);
}

if (args is ["webhook-burst", ..])
{
    return await Berth.Bench.WebhookBurst.RunAsync(Option);
}

if (args is not ["seed-audit", ..])
{
    Console.Error.WriteLine("usage: " + Berth.Bench.Seed.Usage + "\n       " + Berth.Bench.ScaleLatency.Usage + "\n       " + Berth.Bench.PushLoad.Usage + "\n       " + Berth.Bench.InsightBench.Usage + "\n       berth-bench seed-audit --data <folder> --entries <n>\n       berth-bench webhook-burst --url <server> --token <token> [--promotions n] [--endpoints n] [--concurrency n]");
    return 2;
}

var data = Option("--data") ?? throw new ArgumentException("--data is required");
var count = long.Parse(Option("--entries") ?? "1000000", CultureInfo.InvariantCulture);
Directory.CreateDirectory(data);
var connectionString = SqliteRegistryExtensions.ConnectionStringFor(data);

var services = new ServiceCollection().AddSqliteRegistry(connectionString).BuildServiceProvider();
await using (var scope = services.CreateAsyncScope())
{
    await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().MigrateSqliteAsync(CancellationToken.None);
}

var clock = Stopwatch.StartNew();
await using var connection = new SqliteConnection(connectionString);
await connection.OpenAsync();
await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();

long lastId = 0;
var lastHash = AuditHash.Genesis;
await using (var head = connection.CreateCommand())
{
    head.CommandText = "SELECT last_id, last_hash FROM audit_head WHERE id = 1";
    await using var reader = await head.ExecuteReaderAsync();
    if (await reader.ReadAsync())
    {
        (lastId, lastHash) = (reader.GetInt64(0), reader.GetString(1));
    }
}

await using var insert = connection.CreateCommand();
insert.CommandText = """
    INSERT INTO audit_log (id, at, actor_id, actor, action, namespace, target, details, client_address, request_id, previous_hash, hash)
    VALUES ($id, $at, NULL, $actor, $action, $ns, $target, $details, $address, $request, $previous, $hash)
    """;
var parameters = new[] { "$id", "$at", "$actor", "$action", "$ns", "$target", "$details", "$address", "$request", "$previous", "$hash" }
    .ToDictionary(name => name, name => insert.Parameters.Add(new SqliteParameter { ParameterName = name }));
insert.Prepare();

var start = DateTime.UtcNow.Date.AddDays(-30); // whole seconds: entries keep microseconds, like the server's
string[] actions = ["version.create", "version.commit", "version.update", "stage.change", "alias.set", "token.create"];
for (var i = 1; i <= count; i++)
{
    var entry = new AuditEntry
    {
        Id = lastId + 1,
        At = start.AddMilliseconds(i),
        Actor = "bench",
        Action = actions[i % actions.Length],
        Namespace = "bench" + (i % 50),
        Target = $"bench{i % 50}/model{i % 1000}:{i}",
        Details = $"{{\"tags\":{{\"run\":\"{i}\"}}}}",
        ClientAddress = "127.0.0.1",
        RequestId = $"00-{i:x32}-{i:x16}-01",
        PreviousHash = lastHash,
        Hash = "",
    };
    entry.Hash = AuditHash.Compute(entry);
    parameters["$id"].Value = entry.Id;
    parameters["$at"].Value = entry.At.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
    parameters["$actor"].Value = entry.Actor;
    parameters["$action"].Value = entry.Action;
    parameters["$ns"].Value = entry.Namespace;
    parameters["$target"].Value = entry.Target;
    parameters["$details"].Value = entry.Details;
    parameters["$address"].Value = entry.ClientAddress;
    parameters["$request"].Value = entry.RequestId;
    parameters["$previous"].Value = entry.PreviousHash;
    parameters["$hash"].Value = entry.Hash;
    await insert.ExecuteNonQueryAsync();
    (lastId, lastHash) = (entry.Id, entry.Hash);
}

await using (var head = connection.CreateCommand())
{
    head.CommandText = "INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, $id, $hash) ON CONFLICT (id) DO UPDATE SET last_id = $id, last_hash = $hash";
    head.Parameters.AddWithValue("$id", lastId);
    head.Parameters.AddWithValue("$hash", lastHash);
    await head.ExecuteNonQueryAsync();
}

await transaction.CommitAsync();
Console.WriteLine($"seeded {count} audit entries (log now ends at {lastId}) in {clock.Elapsed.TotalSeconds:F1} s");
return 0;

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
