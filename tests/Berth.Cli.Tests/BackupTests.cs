using System.Collections.Concurrent;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>berth backup</c> and <c>berth restore</c> for the embedded default (SQLite and a local folder), on SQLite whatever
/// the other tests run on: a backup taken while pushes run restores into a folder on which a new server serves every
/// version of the snapshot byte for byte, with an intact audit chain; later backups copy only new blobs; and what would
/// lose or hide data is refused.
/// </summary>
[Trait("Database", "both")]
public sealed class BackupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ABackupTakenWhilePushesRunRestoresEveryVersionOfItsSnapshotAndLaterBackupsCopyOnlyNewBlobs()
    {
        var backup = TempFolder.Create("berth-backup");
        var restoredData = TempFolder.Create("berth-restored");
        var pushed = new ConcurrentDictionary<int, ModelFolder>();
        try
        {
            // Without the OCI manifests built in the background, whose config blobs it would count too (or not, by timing).
            await using var server = await ServerProcess.StartEmbeddedAsync(null, Ct, new Dictionary<string, string> { ["BERTH_Oci__BuildInBackground"] = "false" });
            using var admin = new CliUser();
            await admin.LoginAsync(server);
            for (var i = 0; i < 3; i++)
            {
                await PushAsync(admin, pushed, i);
            }

            // Pushes run the whole time the backup does: some land before its snapshot, some after.
            using var stop = new CancellationTokenSource();
            var count = pushed.Count;
            var load = Task.Run(async () =>
            {
                for (var i = 100; !stop.IsCancellationRequested; i++)
                {
                    await PushAsync(admin, pushed, i);
                    Interlocked.Increment(ref count);
                }
            }, Ct);
            await WaitForAsync(() => Volatile.Read(ref count) >= 5, load);
            var acknowledged = pushed.Keys.ToHashSet();
            var first = (await admin.RunAsync("backup", backup, "--data", server.DataDirectory, "--json")).Succeeded().Json;
            var atBackup = Volatile.Read(ref count);
            await WaitForAsync(() => Volatile.Read(ref count) >= atBackup + 2, load);
            await stop.CancelAsync();
            await load;

            var snapshotVersions = first.GetProperty("readyVersions").GetInt32();
            Assert.True(snapshotVersions >= acknowledged.Count, first.ToString());
            Assert.Equal(first.GetProperty("blobs").GetInt32(), first.GetProperty("copiedBlobs").GetInt32());

            // Restored into a new folder, a new server serves the snapshot: every version acknowledged before the
            // backup began, maybe some pushed during it, none half-pushed, each byte for byte; the audit chain holds.
            (await admin.RunAsync("restore", backup, "--data", restoredData)).Succeeded();
            await using (var restored = await ServerProcess.StartEmbeddedAsync(restoredData, Ct))
            {
                using var reader = new CliUser();
                await reader.LoginAsync(restored);
                var numbers = (await reader.RunAsync("ls", "acme/load", "--json")).Succeeded().Json.EnumerateArray()
                    .Select(v => v.GetProperty("number").GetInt32()).ToHashSet();
                Assert.Equal(snapshotVersions, numbers.Count);
                Assert.Superset(acknowledged, numbers);
                Assert.Subset(pushed.Keys.ToHashSet(), numbers);
                foreach (var number in numbers)
                {
                    using var output = new ModelFolder();
                    (await reader.RunAsync("pull", $"acme/load:{number}", "-o", output.Root)).Succeeded();
                    ModelFolder.AssertSameTree(pushed[number].Root, output.Root);
                }

                Assert.Contains("audit log verified", (await reader.RunAsync("audit", "verify")).Succeeded().Stdout, StringComparison.Ordinal);
                (await reader.RunAsync("fsck")).Succeeded();
            }

            // Incremental: the next backup copies what was pushed since; one more version with one new file is one
            // blob; with nothing new, nothing is copied.
            var second = (await admin.RunAsync("backup", backup, "--data", server.DataDirectory, "--json")).Succeeded().Json;
            Assert.Equal(second.GetProperty("blobs").GetInt32() - first.GetProperty("blobs").GetInt32(), second.GetProperty("copiedBlobs").GetInt32());
            await PushAsync(admin, pushed, 1000);
            var third = (await admin.RunAsync("backup", backup, "--data", server.DataDirectory, "--json")).Succeeded().Json;
            Assert.Equal((1, second.GetProperty("blobs").GetInt32() + 1), (third.GetProperty("copiedBlobs").GetInt32(), third.GetProperty("blobs").GetInt32()));
            var text = (await admin.RunAsync("backup", backup, "--data", server.DataDirectory)).Succeeded().Stdout;
            Assert.Contains(": 0 copied now (0 B, each verified against its digest), the rest already in the backup;", text, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var folder in pushed.Values)
            {
                folder.Dispose();
            }

            TempFolder.Delete(backup);
            TempFolder.Delete(restoredData);
        }
    }

    [Fact]
    public async Task WhatWouldLoseOrHideDataIsRefused()
    {
        var backup = TempFolder.Create("berth-backup");
        var other = TempFolder.Create("berth-other");
        try
        {
            await using var server = await ServerProcess.StartEmbeddedAsync(null, Ct);
            using var admin = new CliUser();
            await admin.LoginAsync(server);
            using var model = new ModelFolder(("weights.bin", 5000), ("config.json", 200));
            (await admin.RunAsync("push", model.Root, "acme/guarded")).Succeeded();

            // A blob corrupted in the store is not copied into the backup: the copy is hashed against its digest.
            var digest = ModelFolder.Sha256(await File.ReadAllBytesAsync(Path.Combine(model.Root, "weights.bin"), Ct));
            var stored = Path.Combine(server.DataDirectory, "store", "blobs", "sha256", digest[7..9], digest[7..]);
            await File.WriteAllBytesAsync(stored, new byte[5000], Ct);
            var corrupt = await admin.RunAsync("backup", backup, "--data", server.DataDirectory);
            Assert.Equal(1, corrupt.ExitCode);
            Assert.Contains($"error: {digest} is corrupt in the store", corrupt.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(backup, "blobs", "sha256", digest[7..9], digest[7..])));

            (await admin.RunAsync("restore", backup, "--data", server.DataDirectory, "--force")).Failed(1, "A Berth server is running on");
            await File.WriteAllTextAsync(Path.Combine(other, "notes.txt"), "mine", Ct);
            (await admin.RunAsync("restore", backup, "--data", other)).Failed(1, "is not empty");
            Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(other, "notes.txt"), Ct));
            (await admin.RunAsync("backup", other, "--data", server.DataDirectory)).Failed(1, "neither empty nor a Berth backup");
            (await admin.RunAsync("restore", other, "--data", TempFolder.Create("berth-unused"))).Failed(1, "is not a Berth backup");
            (await admin.RunWithAsync(new Dictionary<string, string?> { ["BERTH_DB"] = "Host=db.internal;Database=berth;Username=berth" },
                "backup", TempFolder.Create("berth-pg"), "--data", server.DataDirectory)).Failed(1, "pg_dump");
        }
        finally
        {
            TempFolder.Delete(backup);
            TempFolder.Delete(other);
        }
    }

    private static async Task PushAsync(CliUser admin, ConcurrentDictionary<int, ModelFolder> pushed, int seed)
    {
        // Each version: 40 KB of its own and 60 KB every version shares.
        var folder = new ModelFolder();
        folder.Write("own.bin", 40_000, seed);
        folder.Write("shared/base.bin", 60_000);
        var result = (await admin.RunAsync("push", folder.Root, "acme/load", "--json")).Succeeded().Json;
        pushed[result.GetProperty("version").GetProperty("number").GetInt32()] = folder;
    }

    private static async Task WaitForAsync(Func<bool> done, Task load)
    {
        while (!done())
        {
            if (load.IsCompleted)
            {
                await load;
                Assert.Fail("The pushes stopped before they were expected to.");
            }

            await Task.Delay(50, Ct);
        }
    }
}
