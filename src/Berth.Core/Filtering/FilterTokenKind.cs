namespace Berth.Core.Filtering;

internal enum FilterTokenKind
{
    End,

    /// <summary>An identifier: a keyword (and, or, not, in, like, ilike, is, null) or a plain field name.</summary>
    Word,

    /// <summary><c>metrics.&lt;key&gt;</c>, <c>params.&lt;key&gt;</c> or <c>tags.&lt;key&gt;</c>, read as one token.</summary>
    KeyedField,
    String,
    Number,
    LeftParen,
    RightParen,
    Comma,
    Equal,
    NotEqual,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}
