namespace Berth.Core.Filtering;

/// <summary>A quoted string, escapes already resolved.</summary>
public sealed record StringValue(string Value) : FilterValue
{
    public override string ToString() =>
        "'" + Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
}
