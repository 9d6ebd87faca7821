namespace Berth.Core.Filtering;

/// <summary>A literal on the right-hand side of a condition.</summary>
public abstract record FilterValue;
