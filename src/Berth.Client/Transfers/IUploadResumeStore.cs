namespace Berth.Client.Transfers;

/// <summary>
/// Remembers open upload sessions, so an interrupted push resumes where it stopped. Keys are made by
/// the client from the server, the model and the blob digest.
/// </summary>
public interface IUploadResumeStore
{
    string? Get(string key);

    void Set(string key, string location);

    void Remove(string key);
}
