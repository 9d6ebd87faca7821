namespace Berth.Core.Filtering;

/// <summary>The comparison operators of the filter language.</summary>
public enum FilterOperator
{
    /// <summary><c>=</c> or <c>==</c>.</summary>
    Equal,

    /// <summary><c>!=</c> or <c>&lt;&gt;</c>.</summary>
    NotEqual,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,

    /// <summary>Case-sensitive pattern: <c>%</c> any run, <c>_</c> one character, <c>\</c> escapes them.</summary>
    Like,
    NotLike,

    /// <summary>Like <see cref="Like"/>, ignoring case.</summary>
    ILike,
    NotILike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}
