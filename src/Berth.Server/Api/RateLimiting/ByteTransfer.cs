namespace Berth.Server.Api.RateLimiting;

/// <summary>Endpoint metadata: the endpoint moves a file's bytes (an upload or a download), counted in the transfer buckets.</summary>
public sealed class ByteTransfer
{
    public static ByteTransfer Instance { get; } = new();
}
