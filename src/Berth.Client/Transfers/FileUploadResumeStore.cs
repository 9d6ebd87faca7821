using System.Text.Json.Serialization;

namespace Berth.Client.Transfers;

/// <summary>
/// An <see cref="IUploadResumeStore"/> in a JSON file that any number of processes share (every running
/// <c>berth push</c> of a user): each change re-reads the file and writes it back under a file lock, so
/// that no process loses another's entries (see <see cref="SharedJsonFile"/>), and each lookup reads the
/// file as it is now.
/// </summary>
public sealed partial class FileUploadResumeStore : IUploadResumeStore
{
    private readonly string _path;

    private FileUploadResumeStore(string path) => _path = path;

    public static Task<FileUploadResumeStore> LoadAsync(string path, CancellationToken cancellationToken = default) =>
        Task.FromResult(new FileUploadResumeStore(path));

    public string? Get(string key) =>
        SharedJsonFile.Read(_path, ResumeJson.Default.DictionaryStringString)?.TryGetValue(key, out var location) == true ? location : null;

    public void Set(string key, string location) =>
        SharedJsonFile.Update(_path, ResumeJson.Default.DictionaryStringString, entries =>
        {
            entries ??= new Dictionary<string, string>(StringComparer.Ordinal);
            entries[key] = location;
            return entries;
        });

    public void Remove(string key)
    {
        if (Get(key) is null)
        {
            return;
        }

        SharedJsonFile.Update(_path, ResumeJson.Default.DictionaryStringString, entries =>
        {
            entries ??= new Dictionary<string, string>(StringComparer.Ordinal);
            entries.Remove(key);
            return entries;
        });
    }

    [JsonSerializable(typeof(Dictionary<string, string>))]
    internal sealed partial class ResumeJson : JsonSerializerContext;
}
