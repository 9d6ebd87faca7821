namespace Berth.Core.Filtering;

/// <summary><c>not operand</c>: plain logical negation (a version without the key matches <c>not tags.k = 'x'</c>).</summary>
public sealed record NotExpression(FilterExpression Operand) : FilterExpression
{
    public override string ToString() => $"not {Operand}";
}
