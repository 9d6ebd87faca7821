namespace Berth.Core.Data.Entities;

/// <summary>The stored outcome of a creating call made with an Idempotency-Key, replayed on retries.</summary>
public sealed class IdempotencyRecord
{
    public long UserId { get; set; }
    public required string Key { get; set; }
    public required string RequestHash { get; set; }

    /// <summary>Null while the first request is still running.</summary>
    public int? StatusCode { get; set; }

    public string? ContentType { get; set; }
    public string? Location { get; set; }
    public string? ETag { get; set; }
    public byte[]? Body { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}
