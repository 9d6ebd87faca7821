namespace Berth.Core.Filtering;

/// <summary>One condition of a gate as evaluated: the condition, the value the version actually has, and whether it held.</summary>
public sealed record GateClause(string Clause, string Actual, bool Passed);
