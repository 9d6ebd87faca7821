using System.Globalization;

namespace Berth.Core.Filtering;

/// <summary>A point in time written as an ISO-8601 string, for <c>created</c>; <see cref="Utc"/> has <see cref="DateTimeKind.Utc"/>.</summary>
public sealed record TimestampValue(DateTime Utc) : FilterValue
{
    public override string ToString() => "'" + Utc.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture) + "'";
}
