namespace Berth.Core.Gc;

/// <summary>What applying retention deleted (or, in a dry run, would delete): the versions by name, and the bytes that frees once they are purged.</summary>
public sealed record RetentionOutcome(IReadOnlyList<string> Versions, long FreedBytes);
