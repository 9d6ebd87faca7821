namespace Berth.Core.Gc;

/// <summary>
/// What applying retention deleted (or, in a dry run, would delete): the versions by name, the bytes that frees once they
/// are purged, and the training runs (<c>namespace/model/id</c>) that produced no version.
/// </summary>
public sealed record RetentionOutcome(IReadOnlyList<string> Versions, long FreedBytes, IReadOnlyList<string> Runs);
