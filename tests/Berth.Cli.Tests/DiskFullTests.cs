using System.Diagnostics;
using System.Globalization;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// A server whose data folder is a small file system (a 64 MiB tmpfs) that fills up: pushes that do not fit fail with
/// 507 <c>insufficient_storage</c> and keep nothing, reads go on while the disk is full, nothing is corrupted, and once
/// space is freed the same push succeeds without restarting the server. On SQLite the database shares that disk; on
/// PostgreSQL only the blobs do.
/// </summary>
[Trait("Database", "both")]
public sealed class DiskFullTests
{
    private const int MiB = 1024 * 1024;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task APushThatDoesNotFitFailsWithInsufficientStorageAndSucceedsOnceSpaceIsFreed()
    {
        Assert.True(Environment.IsPrivilegedProcess,
            "This test mounts a 64 MiB tmpfs as the server's data folder, which needs root (CI runs the tests as root). Run it as root.");
        var root = TempFolder.Create("berth-disk-full");
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", data);
        try
        {
            await using var server = await ServerProcess.StartInAsync(data, Ct);
            await CheckAsync(server, data, root);
        }
        finally
        {
            await UnmountAsync(data);
            TempFolder.Delete(root);
        }
    }

    private static async Task CheckAsync(ServerProcess server, string data, string root)
    {
        using var user = new CliUser();
        await user.LoginAsync(server);
        using var small = new ModelFolder(("weights.bin", 256 * 1024), ("config.json", 300));
        (await user.RunAsync("push", small.Root, "disk/small")).Succeeded();

        // 1. Room for 8 MiB; a 24 MiB file does not fit. The push fails with the code and a hint, the server gives back
        // the space the failed request took, and no version becomes ready.
        var first = Fill(Path.Combine(data, "filler-1"), leave: 8 * MiB);
        using var big = new ModelFolder(("weights.bin", 24 * MiB), ("config.json", 200));
        var refused = await user.RunAsync("push", big.Root, "disk/big");
        refused.Failed(1, "(insufficient_storage)");
        Assert.Contains("The server ran out of disk space", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("hint: the server's disk is full", refused.Stderr, StringComparison.Ordinal);
        Assert.All(DataFolderChecks.Uploads(data), u => Assert.True(u.Value == 0, $"Upload {u.Key} kept {u.Value} bytes of the failed request."));
        Assert.True(new DriveInfo(data).AvailableFreeSpace >= 7 * MiB, "The failed push did not give its space back.");
        await AssertNoReadyVersionAsync(server, "big");
        DataFolderChecks.AssertBlobAreaHoldsOnlyCompleteBlobs(data);

        // 2. The disk completely full: reads go on, writes fail with the same clear error, nothing is corrupted.
        var second = Fill(Path.Combine(data, "filler-2"), leave: 0);
        var pulled = Path.Combine(root, "pulled");
        (await user.RunAsync("pull", "disk/small:1", "-o", pulled)).Succeeded();
        ModelFolder.AssertSameTree(small.Root, pulled);
        Assert.Contains("disk/small", (await user.RunAsync("ls", "disk")).Succeeded().Stdout, StringComparison.Ordinal);
        (await user.RunAsync("show", "disk/small:1")).Succeeded();
        (await user.RunAsync("audit", "verify")).Succeeded();
        using var other = new ModelFolder(("weights.bin", 64 * 1024));
        (await user.RunAsync("push", other.Root, "disk/small")).Failed(1, "(insufficient_storage)");
        await AssertDatabaseIntactAsync(server);
        DataFolderChecks.AssertBlobAreaHoldsOnlyCompleteBlobs(data);

        // 3. Space freed (the operator deletes what filled the disk): the same pushes succeed, on the same server process.
        File.Delete(first);
        File.Delete(second);
        var pushed = (await user.RunAsync("push", big.Root, "disk/big", "--json")).Succeeded().Json.GetProperty("version");
        Assert.Equal("ready", pushed.GetProperty("state").GetString());
        (await user.RunAsync("push", other.Root, "disk/small")).Succeeded();
        var again = Path.Combine(root, "big");
        (await user.RunAsync("pull", $"disk/big:{pushed.GetProperty("number").GetInt32()}", "-o", again)).Succeeded();
        ModelFolder.AssertSameTree(big.Root, again);
        (await user.RunAsync("audit", "verify")).Succeeded();
        await AssertDatabaseIntactAsync(server);
        var blobs = DataFolderChecks.AssertBlobAreaHoldsOnlyCompleteBlobs(data);
        Assert.Contains(ModelFolder.Sha256(await File.ReadAllBytesAsync(Path.Combine(big.Root, "weights.bin"), Ct)), blobs);
        Assert.Empty(DataFolderChecks.Uploads(data));
        Assert.Equal(0L, Convert.ToInt64(await server.Database.ScalarAsync("SELECT COUNT(*) FROM upload_sessions", Ct), CultureInfo.InvariantCulture));
        Assert.True(server.IsRunning, "The server stopped.");
        Assert.DoesNotContain("Unhandled error", server.Log, StringComparison.Ordinal);
        Assert.Contains("Out of disk space", server.Log, StringComparison.Ordinal);
    }

    /// <summary>Writes a file that leaves <paramref name="leave"/> bytes free (0: until the disk is full); returns its path.</summary>
    private static string Fill(string path, long leave)
    {
        var folder = Path.GetDirectoryName(path)!;
        using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        var chunk = new byte[MiB];
        Random.Shared.NextBytes(chunk);
        long offset = 0;
        while (true)
        {
            var free = new DriveInfo(folder).AvailableFreeSpace - leave;
            if (leave > 0 && free <= 0)
            {
                return path;
            }

            var size = leave > 0 ? (int)Math.Min(chunk.Length, free) : chunk.Length;
            try
            {
                RandomAccess.Write(handle, chunk.AsSpan(0, size), offset);
                offset += size;
            }
            catch (IOException) when (leave == 0)
            {
                // Full to the last page (the write that failed may have stored part of its bytes: that is fine).
                return path;
            }
        }
    }

    private static async Task AssertNoReadyVersionAsync(ServerProcess server, string model)
    {
        var ready = await server.Database.ScalarAsync(
            "SELECT COUNT(*) FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = @model AND v.state = 'ready'", Ct, ("model", model));
        Assert.Equal(0L, Convert.ToInt64(ready, CultureInfo.InvariantCulture));
    }

    /// <summary>SQLite's own check of the database file (the database shares the full disk); PostgreSQL's is elsewhere.</summary>
    private static async Task AssertDatabaseIntactAsync(ServerProcess server)
    {
        if (!TestDatabase.IsPostgres)
        {
            Assert.Equal("ok", await server.Database.ScalarAsync("PRAGMA integrity_check", Ct));
        }
    }

    private static async Task UnmountAsync(string mountPoint)
    {
        if (await TryRunAsync("umount", mountPoint) != 0)
        {
            // Something still holds a file there (a process that outlived its test): detach it anyway.
            await RunAsync("umount", "-l", mountPoint);
        }
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        var exit = await TryRunAsync(program, args);
        Assert.True(exit == 0, $"{program} {string.Join(' ', args)} exited with {exit}.");
    }

    private static async Task<int> TryRunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var (exit, _, _) = await ProcessRunner.RunAsync(info, null, CancellationToken.None);
        return exit;
    }
}
