using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Berth.Client.Transfers;

/// <summary>An <see cref="IUploadResumeStore"/> in a JSON file; entries are saved as soon as they change.</summary>
public sealed partial class FileUploadResumeStore : IUploadResumeStore
{
    private readonly string _path;
    private readonly ConcurrentDictionary<string, string> _entries;
    private readonly Lock _gate = new();

    private FileUploadResumeStore(string path, ConcurrentDictionary<string, string> entries)
    {
        _path = path;
        _entries = entries;
    }

    public static async Task<FileUploadResumeStore> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        var entries = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var file = File.OpenRead(path);
            foreach (var (key, value) in await JsonSerializer.DeserializeAsync(file, ResumeJson.Default.DictionaryStringString, cancellationToken).ConfigureAwait(false) ?? [])
            {
                entries[key] = value;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException or IOException)
        {
            // Nothing to resume.
        }

        return new FileUploadResumeStore(path, entries);
    }

    public string? Get(string key) => _entries.TryGetValue(key, out var location) ? location : null;

    public void Set(string key, string location)
    {
        _entries[key] = location;
        Save();
    }

    public void Remove(string key)
    {
        if (_entries.TryRemove(key, out _))
        {
            Save();
        }
    }

    private void Save()
    {
        lock (_gate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
            var temporary = $"{_path}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(new Dictionary<string, string>(_entries, StringComparer.Ordinal), ResumeJson.Default.DictionaryStringString));
            File.Move(temporary, _path, overwrite: true);
        }
    }

    [JsonSerializable(typeof(Dictionary<string, string>))]
    internal sealed partial class ResumeJson : JsonSerializerContext;
}
