using Berth.Contracts.Naming;

namespace Berth.Core.Blobs;

public sealed class BlobNotFoundException(Digest digest)
    : Exception($"Blob {digest} is not in the store.")
{
    public Digest Digest { get; } = digest;
}
