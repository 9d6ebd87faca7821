namespace Berth.Core.Filtering;

/// <summary><c>left and right</c>.</summary>
public sealed record AndExpression(FilterExpression Left, FilterExpression Right) : FilterExpression
{
    public override string ToString() => $"({Left} and {Right})";
}
