namespace Berth.Core.Filtering;

/// <summary>
/// One token. <see cref="Text"/> is the identifier for words, the resolved value for strings and the
/// key for keyed fields; <see cref="Position"/> and <see cref="Length"/> locate the source text.
/// </summary>
internal readonly record struct FilterToken(
    FilterTokenKind Kind,
    int Position,
    int Length,
    string Text,
    double Number = 0,
    FilterFieldKind KeyedKind = FilterFieldKind.Metric)
{
    public bool IsWord(string keyword) => Kind == FilterTokenKind.Word && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);
}
