using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Berth.Client.Transfers;

/// <summary>
/// A JSON file that several processes change at the same time (the CLI's caches: every concurrent
/// <c>berth</c> shares them). A change is a read-modify-write under an exclusive lock on a <c>.lock</c> file
/// beside it (an OS file lock, released by the OS if the process dies), so no process's entries are lost;
/// the new content is written to a temporary file and renamed over the old one, so a reader without the lock
/// always sees a whole file, never a half-written one.
/// </summary>
internal static class SharedJsonFile
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The file's content; null when it is missing or unreadable (a damaged cache only costs work).</summary>
    public static T? Read<T>(string path, JsonTypeInfo<T> type)
    {
        try
        {
            using var file = File.OpenRead(path);
            return JsonSerializer.Deserialize(file, type);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException or IOException)
        {
            return default;
        }
    }

    /// <summary>Reads the file, lets <paramref name="change"/> change the content, and writes it back, all under the lock.</summary>
    public static void Update<T>(string path, JsonTypeInfo<T> type, Func<T?, T> change)
    {
        using var held = Lock(path, CancellationToken.None);
        Write(path, type, change(Read(path, type)));
    }

    /// <inheritdoc cref="Update{T}"/>
    public static async Task UpdateAsync<T>(string path, JsonTypeInfo<T> type, Func<T?, T> change, CancellationToken cancellationToken)
    {
        using var held = await LockAsync(path, cancellationToken).ConfigureAwait(false);
        Write(path, type, change(Read(path, type)));
    }

    private static void Write<T>(string path, JsonTypeInfo<T> type, T content)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(file, content, type);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static FileStream Lock(string path, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            if (TryLock(path, clock) is { } held)
            {
                return held;
            }

            cancellationToken.ThrowIfCancellationRequested();
            Thread.Sleep(Delay(attempt));
        }
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            if (TryLock(path, clock) is { } held)
            {
                return held;
            }

            await Task.Delay(Delay(attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The lock, or null when another process holds it (an exception once that has lasted too long).</summary>
    private static FileStream? TryLock(string path, Stopwatch clock)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        try
        {
            // FileShare.None is an exclusive lock (flock on Unix, a share mode on Windows) held until disposed.
            return new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            if (clock.Elapsed > LockTimeout)
            {
                throw new IOException($"'{path}.lock' stayed locked by another process for {LockTimeout.TotalSeconds:0} s: {e.Message}", e);
            }

            return null;
        }
    }

    private static TimeSpan Delay(int attempt) => TimeSpan.FromMilliseconds(Math.Min(100, 5 * attempt) * (0.5 + Random.Shared.NextDouble()));
}
