namespace Berth.Core.Audit;

/// <summary>
/// Which audit entries to read. Every part is optional. <see cref="Action"/> is an action (<c>stage.change</c>) or, without
/// a dot, a family of them (<c>stage</c>: <c>stage.change</c>, …). <see cref="Until"/> is exclusive.
/// </summary>
public sealed record AuditFilter(
    string? Actor = null,
    string? Action = null,
    string? Namespace = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null);
