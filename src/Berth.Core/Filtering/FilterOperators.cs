namespace Berth.Core.Filtering;

/// <summary>Facts about <see cref="FilterOperator"/> values.</summary>
public static class FilterOperators
{
    /// <summary>The canonical spelling, as <see cref="ComparisonExpression.ToString"/> prints it.</summary>
    public static string Symbol(FilterOperator op) => op switch
    {
        FilterOperator.Equal => "=",
        FilterOperator.NotEqual => "!=",
        FilterOperator.LessThan => "<",
        FilterOperator.LessThanOrEqual => "<=",
        FilterOperator.GreaterThan => ">",
        FilterOperator.GreaterThanOrEqual => ">=",
        FilterOperator.Like => "like",
        FilterOperator.NotLike => "not like",
        FilterOperator.ILike => "ilike",
        FilterOperator.NotILike => "not ilike",
        FilterOperator.In => "in",
        FilterOperator.NotIn => "not in",
        FilterOperator.IsNull => "is null",
        FilterOperator.IsNotNull => "is not null",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    /// <summary>True for <c>!=</c>, <c>not like</c>, <c>not ilike</c> and <c>not in</c>.</summary>
    public static bool IsNegated(FilterOperator op) =>
        op is FilterOperator.NotEqual or FilterOperator.NotLike or FilterOperator.NotILike or FilterOperator.NotIn;

    /// <summary>The positive form of a negated operator (<c>!=</c> → <c>=</c>); other operators unchanged.</summary>
    public static FilterOperator Positive(FilterOperator op) => op switch
    {
        FilterOperator.NotEqual => FilterOperator.Equal,
        FilterOperator.NotLike => FilterOperator.Like,
        FilterOperator.NotILike => FilterOperator.ILike,
        FilterOperator.NotIn => FilterOperator.In,
        _ => op,
    };
}
