namespace Berth.Core.Filtering;

/// <summary>
/// One condition on one field: <c>metrics.auc &gt; 0.9</c>, <c>stage in ('staging', 'production')</c>,
/// <c>tags.validated is not null</c>. <see cref="Values"/> holds no value for <c>is [not] null</c>, one for
/// the binary operators and one or more for <c>[not] in</c>; the parser has checked their types against
/// the field (numbers for metrics and version, <see cref="TimestampValue"/> for created, strings otherwise).
/// </summary>
public sealed record ComparisonExpression(FilterField Field, FilterOperator Operator, IReadOnlyList<FilterValue> Values) : FilterExpression
{
    public bool Equals(ComparisonExpression? other) =>
        other is not null && Field == other.Field && Operator == other.Operator && Values.SequenceEqual(other.Values);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Field);
        hash.Add(Operator);
        foreach (var value in Values)
        {
            hash.Add(value);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => Operator switch
    {
        FilterOperator.IsNull or FilterOperator.IsNotNull => $"{Field} {FilterOperators.Symbol(Operator)}",
        FilterOperator.In or FilterOperator.NotIn => $"{Field} {FilterOperators.Symbol(Operator)} ({string.Join(", ", Values)})",
        _ => $"{Field} {FilterOperators.Symbol(Operator)} {Values[0]}",
    };
}
