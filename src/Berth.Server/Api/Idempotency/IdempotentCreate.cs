namespace Berth.Server.Api.Idempotency;

/// <summary>Endpoint metadata: a creating call that honours <c>Idempotency-Key</c>.</summary>
public sealed class IdempotentCreate
{
    public static IdempotentCreate Instance { get; } = new();
}
