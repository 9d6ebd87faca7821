using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Berth.Contracts.Naming;

namespace Berth.Client.Transfers;

/// <summary>
/// An <see cref="IDigestCache"/> kept in a JSON file. An entry is trusted only if the file's
/// modification time was at least two seconds older than the moment the digest was recorded, so a
/// file rewritten within the same timestamp tick is always hashed again (the "racy git" rule).
/// Concurrent processes share the file: saving merges this process's new entries into what is on disk
/// under a file lock (see <see cref="SharedJsonFile"/>), so no process loses another's entries.
/// </summary>
public sealed partial class FileDigestCache : IDigestCache
{
    private static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);
    private readonly string _path;
    private readonly ConcurrentDictionary<string, Entry> _entries;
    private readonly ConcurrentDictionary<string, Entry> _changed = new(StringComparer.Ordinal);

    private FileDigestCache(string path, ConcurrentDictionary<string, Entry> entries)
    {
        _path = path;
        _entries = entries;
    }

    public static Task<FileDigestCache> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        var entries = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var (key, value) in SharedJsonFile.Read(path, CacheJson.Default.DictionaryStringEntry) ?? [])
        {
            entries[key] = value;
        }

        return Task.FromResult(new FileDigestCache(path, entries));
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
        var entry = new Entry(size, lastWriteUtc.Ticks, DateTime.UtcNow.Ticks, digest.ToString());
        _entries[fullPath] = entry;
        _changed[fullPath] = entry;
    }

    public async Task SaveAsync(CancellationToken cancellationToken)
    {
        if (_changed.IsEmpty)
        {
            return;
        }

        var changes = _changed.ToArray();
        await SharedJsonFile.UpdateAsync(_path, CacheJson.Default.DictionaryStringEntry, stored =>
        {
            stored ??= new Dictionary<string, Entry>(StringComparer.Ordinal);
            foreach (var (key, entry) in changes)
            {
                stored[key] = entry;
            }

            return stored;
        }, cancellationToken).ConfigureAwait(false);
        foreach (var (key, entry) in changes)
        {
            _changed.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }
    }

    internal sealed record Entry(long Size, long LastWriteTicks, long RecordedTicks, string Digest);

    [JsonSerializable(typeof(Dictionary<string, Entry>))]
    internal sealed partial class CacheJson : JsonSerializerContext;
}
