namespace Berth.Core.Filtering;

/// <summary>
/// A parsed filter expression (see <see cref="FilterParser"/>). The tree is immutable and compares by
/// value; <see cref="object.ToString"/> prints a canonical, fully parenthesised form that parses back
/// to an equal tree.
/// </summary>
public abstract record FilterExpression;
