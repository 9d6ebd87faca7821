namespace Berth.Contracts.Dtos;

/// <summary>One page of a list. Pass <see cref="NextCursor"/> back as <c>cursor</c> for the next page; null means the end.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>An RFC 9457 problem as Berth sends it: <c>code</c> is the stable machine-readable error.</summary>
public sealed record ProblemBody(
    string? Type,
    string? Title,
    int? Status,
    string? Detail,
    string? Instance,
    string? Code,
    string? RequestId);
