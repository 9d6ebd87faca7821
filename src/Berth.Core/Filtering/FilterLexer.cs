using System.Globalization;
using System.Text;

namespace Berth.Core.Filtering;

/// <summary>
/// Splits a filter into tokens on demand, so the first error in reading order is the one reported.
/// Keys after <c>metrics.</c>, <c>params.</c> and <c>tags.</c> are read here, because their characters
/// (<c>-</c>, <c>/</c>, <c>.</c>) mean something else elsewhere.
/// </summary>
internal sealed class FilterLexer(string text, int start = 0)
{
    private int _position = start;

    /// <summary>Characters of a key written without quotes: letters, digits, <c>_ . - /</c>.</summary>
    public static bool IsBareKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '/';

    public FilterToken Next()
    {
        while (_position < text.Length && char.IsWhiteSpace(text[_position]))
        {
            _position++;
        }

        var start = _position;
        if (start >= text.Length)
        {
            return new FilterToken(FilterTokenKind.End, start, 0, "");
        }

        var c = text[start];
        switch (c)
        {
            case '(':
                return Symbol(FilterTokenKind.LeftParen, 1);
            case ')':
                return Symbol(FilterTokenKind.RightParen, 1);
            case ',':
                return Symbol(FilterTokenKind.Comma, 1);
            case '=':
                return Symbol(FilterTokenKind.Equal, Peek(1) == '=' ? 2 : 1);
            case '!':
                return Peek(1) == '='
                    ? Symbol(FilterTokenKind.NotEqual, 2)
                    : throw FilterErrors.At(start, "Expected '=' after '!'; write '!=' for 'not equal' or 'not' to negate a condition");
            case '<':
                return Peek(1) switch
                {
                    '=' => Symbol(FilterTokenKind.LessThanOrEqual, 2),
                    '>' => Symbol(FilterTokenKind.NotEqual, 2),
                    _ => Symbol(FilterTokenKind.LessThan, 1),
                };
            case '>':
                return Peek(1) == '=' ? Symbol(FilterTokenKind.GreaterThanOrEqual, 2) : Symbol(FilterTokenKind.GreaterThan, 1);
            case '\'' or '"':
                var value = ReadQuoted("string");
                return new FilterToken(FilterTokenKind.String, start, _position - start, value);
            case '`':
                throw FilterErrors.At(start, "Unexpected '`': backticks quote a key after 'metrics.', 'params.' or 'tags.'; quote values with ' or \"");
        }

        if (char.IsAsciiDigit(c) || (c == '-' && char.IsAsciiDigit(Peek(1))))
        {
            return ReadNumber();
        }

        if (char.IsAsciiLetter(c) || c == '_')
        {
            return ReadWord();
        }

        throw FilterErrors.At(start, $"Unexpected character '{Show(c)}'; expected a field, a value, an operator, a parenthesis or a keyword");
    }

    private FilterToken Symbol(FilterTokenKind kind, int length)
    {
        var token = new FilterToken(kind, _position, length, text.Substring(_position, length));
        _position += length;
        return token;
    }

    private char Peek(int offset) => _position + offset < text.Length ? text[_position + offset] : '\0';

    private FilterToken ReadWord()
    {
        var start = _position;
        while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] == '_'))
        {
            _position++;
        }

        var word = text[start.._position];
        if (Peek(0) == '.' && string.Equals(word, LineageFilter.Prefix, StringComparison.OrdinalIgnoreCase))
        {
            // lineage.run, lineage.gitCommit …: one field name (the parser knows which exist).
            _position++;
            while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] == '_'))
            {
                _position++;
            }

            return new FilterToken(FilterTokenKind.Word, start, _position - start, text[start.._position]);
        }

        FilterFieldKind? keyed = word.ToLowerInvariant() switch
        {
            "metrics" => FilterFieldKind.Metric,
            "params" => FilterFieldKind.Param,
            "tags" => FilterFieldKind.Tag,
            "metadata" => FilterFieldKind.Metadata,
            "scan" => FilterFieldKind.Scan,
            _ => null,
        };
        if (keyed is not { } kind)
        {
            return new FilterToken(FilterTokenKind.Word, start, word.Length, word);
        }

        if (Peek(0) != '.')
        {
            throw FilterErrors.At(_position, $"Expected '.' and a key after '{word}' (for example {word.ToLowerInvariant()}.{ExampleKey(kind)})");
        }

        _position++;
        var key = ReadKey(word);
        return new FilterToken(FilterTokenKind.KeyedField, start, _position - start, key, KeyedKind: kind);
    }

    private string ReadKey(string prefix)
    {
        var start = _position;
        var c = Peek(0);
        string key;
        if (c is '`' or '"')
        {
            key = ReadQuoted("key");
        }
        else
        {
            while (_position < text.Length && IsBareKeyChar(text[_position]))
            {
                _position++;
            }

            key = text[start.._position];
        }

        if (key.Length == 0)
        {
            throw FilterErrors.At(start, $"Expected a key after '{prefix}.': letters, digits, '_', '.', '-' and '/', or any text in backticks (`…`) or double quotes");
        }

        return key;
    }

    /// <summary>Reads a quoted string or key; a backslash escapes a quote character (' \" `) or itself.</summary>
    private string ReadQuoted(string what)
    {
        var start = _position;
        var quote = text[start];
        var value = new StringBuilder();
        _position++;
        while (true)
        {
            if (_position >= text.Length)
            {
                throw FilterErrors.At(start, $"Unterminated {what}: the {quote} that opens it is never closed");
            }

            var c = text[_position];
            if (c == quote)
            {
                _position++;
                return value.ToString();
            }

            if (c == '\\')
            {
                var next = Peek(1);
                if (next is not ('\\' or '\'' or '"' or '`'))
                {
                    if (_position + 1 >= text.Length)
                    {
                        throw FilterErrors.At(start, $"Unterminated {what}: the {quote} that opens it is never closed");
                    }

                    throw FilterErrors.At(_position, $"Unknown escape '\\{Show(next)}'; a backslash may only escape a quote (\\', \\\", \\`) or a backslash (\\\\)");
                }

                value.Append(next);
                _position += 2;
                continue;
            }

            value.Append(c);
            _position++;
        }
    }

    private FilterToken ReadNumber()
    {
        var start = _position;
        if (Peek(0) == '-')
        {
            _position++;
        }

        SkipDigits();
        if (Peek(0) == '.' && char.IsAsciiDigit(Peek(1)))
        {
            _position++;
            SkipDigits();
        }

        if (Peek(0) is 'e' or 'E')
        {
            var sign = Peek(1) is '+' or '-' ? 1 : 0;
            if (char.IsAsciiDigit(Peek(1 + sign)))
            {
                _position += 1 + sign;
                SkipDigits();
            }
        }

        if (char.IsAsciiLetterOrDigit(Peek(0)) || Peek(0) is '_' or '.')
        {
            var end = _position;
            while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] is '_' or '.' or '+' or '-'))
            {
                end++;
            }

            throw FilterErrors.At(start, $"Invalid number '{Shorten(text[start..end])}'; write numbers like 42, -0.5 or 1e-3");
        }

        var source = text[start.._position];
        var number = double.Parse(source, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(number))
        {
            throw FilterErrors.At(start, $"The number '{Shorten(source)}' is out of range");
        }

        return new FilterToken(FilterTokenKind.Number, start, source.Length, source, number);
    }

    private void SkipDigits()
    {
        while (_position < text.Length && char.IsAsciiDigit(text[_position]))
        {
            _position++;
        }
    }

    private static string ExampleKey(FilterFieldKind kind) => kind switch
    {
        FilterFieldKind.Metric => "auc",
        FilterFieldKind.Param => "optimizer",
        FilterFieldKind.Metadata => "framework",
        FilterFieldKind.Scan => "dangerous",
        _ => "team",
    };

    internal static string Show(char c) => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString();

    internal static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
