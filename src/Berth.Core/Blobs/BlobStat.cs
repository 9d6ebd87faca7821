using Berth.Contracts.Naming;

namespace Berth.Core.Blobs;

public sealed record BlobStat(Digest Digest, long Size, DateTimeOffset LastModified);
