using System.Globalization;

namespace Berth.Core.Filtering;

/// <summary>
/// Parses the filter language used by search and stage gates, for example
/// <c>metrics.auc &gt; 0.9 and (stage = 'production' or alias = "champion") and not params.optimizer = 'adam'</c>.
/// </summary>
/// <remarks>
/// <code>
/// filter     := or END
/// or         := and ( 'or' and )*
/// and        := not ( 'and' not )*
/// not        := 'not' not | primary
/// primary    := '(' or ')' | comparison
/// comparison := field ( ('=' | '==' | '!=' | '&lt;&gt;' | '&lt;' | '&lt;=' | '&gt;' | '&gt;=') value
///                     | ['not'] ('like' | 'ilike') string
///                     | ['not'] 'in' '(' value ( ',' value )* ')'
///                     | 'is' ['not'] 'null' )
/// field      := name | namespace | version | semver | stage | alias | created | digest | size | files
///             | ('metrics' | 'params' | 'tags') '.' key
///             | 'metadata' '.' ('framework' | 'format' | 'parameters' | 'precision' | 'quantization' | 'state')
///             | 'scan' '.' ('verdict' | 'dangerous' | 'suspicious' | 'scanned')
///             | 'lineage.run' | 'lineage.gitCommit' | 'lineage.dataset' | 'lineage.parent'
/// key        := [A-Za-z0-9_.\-/]+ | '`' … '`' | '"' … '"'
/// value      := string | number
/// </code>
/// Keywords and field names ignore case; keys and values do not. Strings use single or double quotes, and a
/// backslash escapes a quote or a backslash. Every error is a <see cref="Errors.RegistryException"/> with
/// code <c>invalid_filter</c> and a <c>position</c> extension (0-based character index).
/// </remarks>
public static class FilterParser
{
    public const int MaxLength = 4096;
    public const int MaxDepth = 64;
    public const int MaxClauses = 200;

    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd' 'HH:mmK",
        "yyyy-MM-dd' 'HH:mm:ss.FFFFFFFK",
    ];

    public static FilterExpression Parse(string? filter, FilterScope scope = FilterScope.Versions)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            throw FilterErrors.At(0, "The filter is empty; write a condition such as metrics.auc > 0.9 or leave the filter out");
        }

        if (filter.Length > MaxLength)
        {
            throw FilterErrors.At(MaxLength, $"The filter is {filter.Length} characters long; the limit is {MaxLength}");
        }

        return new Parser(filter, scope).ParseFilter();
    }

    /// <summary>Reads an ISO-8601 date or date-time (UTC unless it carries an offset).</summary>
    internal static bool TryParseTimestamp(string text, out DateTime utc)
    {
        if (DateTimeOffset.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            utc = value.UtcDateTime;
            return true;
        }

        utc = default;
        return false;
    }

    private sealed class Parser(string text, FilterScope scope)
    {
        private readonly FilterLexer _lexer = new(text);
        private FilterToken _current;
        private int _depth;
        private int _clauses;

        public FilterExpression ParseFilter()
        {
            Advance();
            var result = ParseOr();
            if (_current.Kind != FilterTokenKind.End)
            {
                throw _current.Kind == FilterTokenKind.RightParen
                    ? FilterErrors.At(_current.Position, "Unexpected ')': it has no matching '('")
                    : Expected("'and', 'or' or the end of the filter");
            }

            return result;
        }

        private void Advance() => _current = _lexer.Next();

        private FilterExpression ParseOr()
        {
            var left = ParseAnd();
            while (_current.IsWord("or"))
            {
                Advance();
                left = new OrExpression(left, ParseAnd());
            }

            return left;
        }

        private FilterExpression ParseAnd()
        {
            var left = ParseNot();
            while (_current.IsWord("and"))
            {
                Advance();
                left = new AndExpression(left, ParseNot());
            }

            return left;
        }

        private FilterExpression ParseNot()
        {
            if (_current.IsWord("not"))
            {
                Enter();
                Advance();
                var operand = ParseNot();
                _depth--;
                return new NotExpression(operand);
            }

            return ParsePrimary();
        }

        private FilterExpression ParsePrimary()
        {
            if (_current.Kind != FilterTokenKind.LeftParen)
            {
                return ParseComparison();
            }

            var open = _current;
            Enter();
            Advance();
            var inner = ParseOr();
            if (_current.Kind != FilterTokenKind.RightParen)
            {
                throw Expected($"')' to close the '(' at position {open.Position}, or 'and' / 'or'");
            }

            Advance();
            _depth--;
            return inner;
        }

        private void Enter()
        {
            if (++_depth > MaxDepth)
            {
                throw FilterErrors.At(_current.Position, $"The filter nests parentheses and 'not' more than {MaxDepth} levels deep; simplify it");
            }
        }

        private FilterExpression ParseComparison()
        {
            var fieldToken = _current;
            var field = ReadField();
            if (++_clauses > MaxClauses)
            {
                throw FilterErrors.At(fieldToken.Position, $"The filter has more than {MaxClauses} conditions; narrow it down");
            }

            Advance();
            var opToken = _current;
            var op = ReadOperator(field);
            CheckOperator(field, op, opToken);
            return op switch
            {
                FilterOperator.IsNull or FilterOperator.IsNotNull => new ComparisonExpression(field, op, []),
                FilterOperator.In or FilterOperator.NotIn => new ComparisonExpression(field, op, ReadList(field, op)),
                _ => new ComparisonExpression(field, op, [ReadValue(field, op)]),
            };
        }

        private FilterField ReadField()
        {
            if (_current.Kind == FilterTokenKind.KeyedField)
            {
                if (_current.KeyedKind is FilterFieldKind.Metadata or FilterFieldKind.Scan)
                {
                    var prefix = _current.KeyedKind == FilterFieldKind.Metadata ? "metadata" : "scan";
                    if (scope == FilterScope.Runs)
                    {
                        throw FilterErrors.At(_current.Position, $"{prefix}.* describes a version's files; a run's filter has name, status, created, metrics.<key>, params.<key> and tags.<key>");
                    }

                    if (InsightFields.Find(_current.KeyedKind, _current.Text) is null)
                    {
                        var keys = _current.KeyedKind == FilterFieldKind.Metadata ? InsightFields.MetadataKeys : InsightFields.ScanKeys;
                        throw FilterErrors.At(_current.Position, $"Unknown field '{prefix}.{FilterLexer.Shorten(_current.Text)}'; expected {string.Join(", ", keys.Select(k => prefix + "." + k))}");
                    }
                }

                return new FilterField(_current.KeyedKind, _current.Text);
            }

            var fields = scope == FilterScope.Runs
                ? "name, status, created, metrics.<key>, params.<key> or tags.<key>"
                : "name, namespace, version, semver, stage, alias, created, digest, size, files, metrics.<key>, params.<key>, tags.<key>, metadata.<field>, scan.<field> or " + LineageFilter.Fields;
            if (_current.Kind != FilterTokenKind.Word || IsKeyword(_current.Text))
            {
                throw Expected($"a condition: a field ({fields}), 'not' or '('");
            }

            FilterFieldKind? kind = scope == FilterScope.Runs ? _current.Text.ToLowerInvariant() switch
            {
                "name" => FilterFieldKind.Name,
                "status" => FilterFieldKind.Status,
                "created" => FilterFieldKind.Created,
                _ => null,
            }
            : _current.Text.ToLowerInvariant() switch
            {
                "name" => FilterFieldKind.Name,
                "namespace" => FilterFieldKind.Namespace,
                "version" => FilterFieldKind.Version,
                "semver" => FilterFieldKind.SemVer,
                "stage" => FilterFieldKind.Stage,
                "alias" => FilterFieldKind.Alias,
                "created" => FilterFieldKind.Created,
                "digest" => FilterFieldKind.Digest,
                "size" => FilterFieldKind.Size,
                "files" => FilterFieldKind.Files,
                _ => LineageFilter.Field(_current.Text),
            };
            return kind is { } known
                ? new FilterField(known)
                : throw FilterErrors.At(_current.Position, $"Unknown field '{FilterLexer.Shorten(_current.Text)}'; expected {fields}");
        }

        private static bool IsKeyword(string word) => word.ToLowerInvariant() is "and" or "or" or "not" or "in" or "like" or "ilike" or "is" or "null";

        private FilterOperator ReadOperator(FilterField field)
        {
            var token = _current;
            FilterOperator? symbol = token.Kind switch
            {
                FilterTokenKind.Equal => FilterOperator.Equal,
                FilterTokenKind.NotEqual => FilterOperator.NotEqual,
                FilterTokenKind.LessThan => FilterOperator.LessThan,
                FilterTokenKind.LessThanOrEqual => FilterOperator.LessThanOrEqual,
                FilterTokenKind.GreaterThan => FilterOperator.GreaterThan,
                FilterTokenKind.GreaterThanOrEqual => FilterOperator.GreaterThanOrEqual,
                _ => null,
            };
            if (symbol is { } op)
            {
                Advance();
                return op;
            }

            if (token.IsWord("is"))
            {
                Advance();
                var negated = _current.IsWord("not");
                if (negated)
                {
                    Advance();
                }

                if (!_current.IsWord("null"))
                {
                    throw Expected(negated ? "'null' after 'is not'" : "'null' or 'not null' after 'is'");
                }

                Advance();
                return negated ? FilterOperator.IsNotNull : FilterOperator.IsNull;
            }

            var not = token.IsWord("not");
            if (not)
            {
                Advance();
            }

            FilterOperator? word = _current switch
            {
                _ when _current.IsWord("like") => not ? FilterOperator.NotLike : FilterOperator.Like,
                _ when _current.IsWord("ilike") => not ? FilterOperator.NotILike : FilterOperator.ILike,
                _ when _current.IsWord("in") => not ? FilterOperator.NotIn : FilterOperator.In,
                _ => null,
            };
            if (word is { } named)
            {
                Advance();
                return named;
            }

            throw not
                ? Expected("'like', 'ilike' or 'in' after 'not'")
                : Expected($"an operator after '{field}' (=, !=, <, <=, >, >=, like, ilike, in, is null)");
        }

        private void CheckOperator(FilterField field, FilterOperator op, FilterToken at)
        {
            var type = FieldType(field);
            if (scope == FilterScope.Runs && field.Kind == FilterFieldKind.Param && op is not (FilterOperator.Like or FilterOperator.NotLike or FilterOperator.ILike or FilterOperator.NotILike))
            {
                // A run's param compares as a number with a number (params.lr < 0.05), as text with a string.
                type = ValueType.Number;
            }

            var allowed = type switch
            {
                ValueType.Number or ValueType.Timestamp =>
                    !(op is FilterOperator.Like or FilterOperator.NotLike or FilterOperator.ILike or FilterOperator.NotILike),
                _ => !(op is FilterOperator.LessThan or FilterOperator.LessThanOrEqual or FilterOperator.GreaterThan or FilterOperator.GreaterThanOrEqual),
            };
            var nullable = field.Kind is FilterFieldKind.SemVer or FilterFieldKind.Stage or FilterFieldKind.Alias
                or FilterFieldKind.Metric or FilterFieldKind.Param or FilterFieldKind.Tag or FilterFieldKind.Metadata or FilterFieldKind.Scan
                || LineageFilter.IsLineage(field.Kind)
                || (scope == FilterScope.Runs && field.Kind == FilterFieldKind.Name);
            if (field.Kind == FilterFieldKind.LineageParent && op is FilterOperator.Like or FilterOperator.NotLike or FilterOperator.ILike or FilterOperator.NotILike)
            {
                throw FilterErrors.At(at.Position, $"'{FilterOperators.Symbol(op)}' does not apply to lineage.parent, which names versions; use =, !=, in or is null (lineage.parent = 'acme/base' matches any version of acme/base)");
            }

            if (op is FilterOperator.IsNull or FilterOperator.IsNotNull)
            {
                allowed = nullable;
            }

            if (allowed)
            {
                return;
            }

            var what = type switch
            {
                ValueType.Number => "a number",
                ValueType.Timestamp => "a date/time",
                _ => "a string",
            };
            var ops = (type, nullable) switch
            {
                (ValueType.String, false) => "=, !=, like, ilike or in",
                (ValueType.String, true) => "=, !=, like, ilike, in or is null",
                (_, false) => "=, !=, <, <=, >, >= or in",
                (_, true) => "=, !=, <, <=, >, >=, in or is null",
            };

            var always = nullable ? "" : " that every version has";
            throw FilterErrors.At(at.Position, $"'{FilterOperators.Symbol(op)}' does not apply to {field}, which is {what}{always}; use {ops}");
        }

        private List<FilterValue> ReadList(FilterField field, FilterOperator op)
        {
            if (_current.Kind != FilterTokenKind.LeftParen)
            {
                throw Expected($"'(' and a list of values after '{FilterOperators.Symbol(op)}', as in {field} in ({Example(field)}, …)");
            }

            Advance();
            var values = new List<FilterValue> { ReadValue(field, op) };
            while (_current.Kind == FilterTokenKind.Comma)
            {
                Advance();
                values.Add(ReadValue(field, op));
            }

            if (_current.Kind != FilterTokenKind.RightParen)
            {
                throw Expected("',' or ')' in the list of values");
            }

            Advance();
            return values;
        }

        private FilterValue ReadValue(FilterField field, FilterOperator op)
        {
            var token = _current;
            var type = FieldType(field);
            if (scope == FilterScope.Runs && field.Kind == FilterFieldKind.Param && token.Kind == FilterTokenKind.Number)
            {
                type = ValueType.Number;
            }
            else if (scope == FilterScope.Runs && field.Kind == FilterFieldKind.Param && token.Kind == FilterTokenKind.String &&
                op is FilterOperator.LessThan or FilterOperator.LessThanOrEqual or FilterOperator.GreaterThan or FilterOperator.GreaterThanOrEqual)
            {
                throw FilterErrors.At(token.Position, $"{field} is ordered only against a number; found {Describe(token)}");
            }

            if (token.IsWord("null"))
            {
                throw FilterErrors.At(token.Position, $"Expected a value, found 'null'; to test for a missing value write {field} is null");
            }

            if (token.Kind is not (FilterTokenKind.String or FilterTokenKind.Number))
            {
                var kind = type == ValueType.Number ? "a number" : "a quoted string";
                throw Expected(op is FilterOperator.In or FilterOperator.NotIn
                    ? $"a value in the list: {kind}"
                    : $"a value after '{FilterOperators.Symbol(op)}': {kind}, as in {field} {FilterOperators.Symbol(op)} {Example(field)}");
            }

            FilterValue value;
            switch (type)
            {
                case ValueType.Number when token.Kind != FilterTokenKind.Number:
                    throw FilterErrors.At(token.Position, $"{field} is a number; expected a number, found {Describe(token)}");
                case ValueType.Number when field.Kind is FilterFieldKind.Version or FilterFieldKind.Files && (token.Number != Math.Floor(token.Number) || token.Number is < int.MinValue or > int.MaxValue):
                    throw FilterErrors.At(token.Position, $"{field} is a whole number; found {Describe(token)}");
                case ValueType.Number when field.Kind == FilterFieldKind.Size && (token.Number != Math.Floor(token.Number) || token.Number is < long.MinValue or >= long.MaxValue):
                    throw FilterErrors.At(token.Position, $"size is a whole number of bytes; found {Describe(token)}");
                case ValueType.Number:
                    value = new NumberValue(token.Number);
                    break;
                case ValueType.Timestamp when token.Kind != FilterTokenKind.String || !TryParseTimestamp(token.Text, out _):
                    throw FilterErrors.At(token.Position, $"created is compared to an ISO-8601 date or time in quotes, such as '2026-01-01' or '2026-01-01T12:00:00Z'; found {Describe(token)}");
                case ValueType.Timestamp:
                    TryParseTimestamp(token.Text, out var utc);
                    value = new TimestampValue(utc);
                    break;
                default:
                    if (token.Kind != FilterTokenKind.String)
                    {
                        throw FilterErrors.At(token.Position, $"{field} is a string; expected a quoted string, found {Describe(token)} (write '{token.Text}' to compare the text)");
                    }

                    if (field.Kind == FilterFieldKind.LineageParent && LineageFilter.CheckParent(token.Text, out _) is { } parentProblem)
                    {
                        throw FilterErrors.At(token.Position, parentProblem);
                    }

                    value = new StringValue(token.Text);
                    break;
            }

            Advance();
            return value;
        }

        private static ValueType FieldType(FilterField field) => field.Kind switch
        {
            FilterFieldKind.Version or FilterFieldKind.Size or FilterFieldKind.Files or FilterFieldKind.Metric => ValueType.Number,
            FilterFieldKind.Metadata or FilterFieldKind.Scan => InsightFields.Find(field.Kind, field.Key)?.Number == true ? ValueType.Number : ValueType.String,
            FilterFieldKind.Created => ValueType.Timestamp,
            _ => ValueType.String,
        };

        private static string Example(FilterField field) => field.Kind switch
        {
            FilterFieldKind.Version => "3",
            FilterFieldKind.Size => "2000000000",
            FilterFieldKind.Files => "10",
            FilterFieldKind.Metric => "0.9",
            FilterFieldKind.Created => "'2026-01-01'",
            FilterFieldKind.Stage => "'production'",
            FilterFieldKind.Metadata when field.Key == "parameters" => "1000000000",
            FilterFieldKind.Metadata => "'onnx'",
            FilterFieldKind.Scan when field.Key == "verdict" => "'safe'",
            FilterFieldKind.Scan => "0",
            _ => "'text'",
        };

        private Errors.RegistryException Expected(string what) =>
            FilterErrors.At(_current.Position, $"Expected {what}, found {Describe(_current)}");

        private string Describe(FilterToken token) => token.Kind switch
        {
            FilterTokenKind.End => "the end of the filter",
            FilterTokenKind.String => $"the string {new StringValue(FilterLexer.Shorten(token.Text))}",
            FilterTokenKind.Number => $"the number {token.Text}",
            _ => $"'{FilterLexer.Shorten(text.Substring(token.Position, token.Length))}'",
        };

        private enum ValueType
        {
            String,
            Number,
            Timestamp,
        }
    }
}
