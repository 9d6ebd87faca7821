using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Berth.Contracts.Naming;

namespace Berth.Client.Transfers;

/// <summary>
/// An <see cref="IDigestCache"/> kept in a JSON file. An entry is trusted only if the file's
/// modification time was at least two seconds older than the moment the digest was recorded, so a
/// file rewritten within the same timestamp tick is always hashed again (the "racy git" rule).
/// </summary>
public sealed partial class FileDigestCache : IDigestCache
{
    private static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);
    private readonly string _path;
    private readonly ConcurrentDictionary<string, Entry> _entries;
    private bool _dirty;

    private FileDigestCache(string path, ConcurrentDictionary<string, Entry> entries)
    {
        _path = path;
        _entries = entries;
    }

    public static async Task<FileDigestCache> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        var entries = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
        try
        {
            using var file = File.OpenRead(path);
            var stored = await JsonSerializer.DeserializeAsync(file, CacheJson.Default.DictionaryStringEntry, cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in stored ?? [])
            {
                entries[key] = value;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException or IOException)
        {
            // A missing or damaged cache only costs a re-hash.
        }

        return new FileDigestCache(path, entries);
    }

    public bool TryGet(string fullPath, long size, DateTime lastWriteUtc, out Digest digest)
    {
        digest = default;
        return _entries.TryGetValue(fullPath, out var entry) &&
               entry.Size == size &&
               entry.LastWriteTicks == lastWriteUtc.Ticks &&
               entry.RecordedTicks - entry.LastWriteTicks >= RacyWindow.Ticks &&
               Digest.TryParse(entry.Digest, out digest);
    }

    public void Set(string fullPath, long size, DateTime lastWriteUtc, Digest digest)
    {
        _entries[fullPath] = new Entry(size, lastWriteUtc.Ticks, DateTime.UtcNow.Ticks, digest.ToString());
        _dirty = true;
    }

    public async Task SaveAsync(CancellationToken cancellationToken)
    {
        if (!_dirty)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        var temporary = $"{_path}.{Environment.ProcessId}.tmp";
        using (var file = File.Create(temporary))
        {
            await JsonSerializer.SerializeAsync(file, new Dictionary<string, Entry>(_entries, StringComparer.Ordinal), CacheJson.Default.DictionaryStringEntry, cancellationToken).ConfigureAwait(false);
        }

        File.Move(temporary, _path, overwrite: true);
        _dirty = false;
    }

    internal sealed record Entry(long Size, long LastWriteTicks, long RecordedTicks, string Digest);

    [JsonSerializable(typeof(Dictionary<string, Entry>))]
    internal sealed partial class CacheJson : JsonSerializerContext;
}
