using Berth.Contracts.Naming;

namespace Berth.Client.Transfers;

/// <summary>
/// Remembers the digests of local files by path, size and modification time, so that pushing an
/// unchanged model again does not read it again.
/// </summary>
public interface IDigestCache
{
    bool TryGet(string fullPath, long size, DateTime lastWriteUtc, out Digest digest);

    void Set(string fullPath, long size, DateTime lastWriteUtc, Digest digest);

    Task SaveAsync(CancellationToken cancellationToken);
}
