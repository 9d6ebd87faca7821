namespace Berth.Core.Filtering;

/// <summary><c>left or right</c>.</summary>
public sealed record OrExpression(FilterExpression Left, FilterExpression Right) : FilterExpression
{
    public override string ToString() => $"({Left} or {Right})";
}
