namespace Berth.Core.Filtering;

/// <summary>
/// A parsed filter expression (see <see cref="FilterParser"/>). The tree is immutable and compares by
/// value; <see cref="object.ToString"/> prints a canonical, fully parenthesised form that parses back
/// to an equal tree (within the parser's limits: the parentheses of a chain of more than 64 conditions nest
/// deeper than <see cref="FilterParser.MaxDepth"/>, and escaping can make the text longer than
/// <see cref="FilterParser.MaxLength"/>).
/// </summary>
public abstract record FilterExpression;
