using System.Globalization;

namespace Berth.Core.Filtering;

/// <summary>A number (integer, decimal or with an exponent; possibly negative).</summary>
public sealed record NumberValue(double Value) : FilterValue
{
    public override string ToString() => Value.ToString("R", CultureInfo.InvariantCulture);
}
