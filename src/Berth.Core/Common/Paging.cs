using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Errors;

namespace Berth.Core.Common;

/// <summary>
/// Cursor pagination. A cursor is an opaque, URL-safe encoding of the sort key of the last item of
/// the previous page (keyset pagination: stable under inserts, cheap at any depth).
/// </summary>
public sealed record Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;
    private const char Separator = '\u001f';

    public Paging(int? limit, string? cursor)
    {
        if (limit is < 1 or > MaxLimit)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"limit must be between 1 and {MaxLimit}.");
        }

        Limit = limit ?? DefaultLimit;
        Parts = string.IsNullOrEmpty(cursor) ? null : Decode(cursor);
    }

    public int Limit { get; }

    /// <summary>The decoded key of the cursor, or null on the first page.</summary>
    public IReadOnlyList<string>? Parts { get; }

    public long AfterId() => Parts is null ? 0 : ParseLong(Parts[0]);

    public int? AfterNumber() => Parts is null ? null : checked((int)ParseLong(Parts[0]));

    public string? AfterString() => Parts?[0];

    /// <summary>
    /// The sort value (null for a missing one) and id of the last row of the previous page of a list sorted by
    /// <paramref name="sort"/>, whose page cursors are <c>Encode(sort, value, id)</c>; null on the first page.
    /// </summary>
    public (string? Value, long Id)? AfterSorted(string sort)
    {
        if (Parts is not { } parts)
        {
            return null;
        }

        if (parts.Count != 3 || parts[0] != sort)
        {
            throw new RegistryException(ErrorCodes.InvalidCursor, "The cursor belongs to another sort order; start again without a cursor.");
        }

        return (IsNull(parts[1]) ? null : parts[1], ParseLong(parts[2]));
    }

    /// <summary>Trims a fetched list of up to Limit+1 rows to a page and encodes the cursor of its last item.</summary>
    public Page<T> Page<T>(IReadOnlyList<T> rows, Func<T, object> key) => Page(rows, item => [key(item)]);

    public Page<T> Page<T>(IReadOnlyList<T> rows, Func<T, object?[]> key)
    {
        if (rows.Count <= Limit)
        {
            return new Page<T>(rows, null);
        }

        var items = rows.Take(Limit).ToList();
        return new Page<T>(items, Encode(key(items[^1])));
    }

    public static string Encode(params object?[] parts)
    {
        var text = string.Join(Separator, parts.Select(p => p switch
        {
            null => "\u0000",
            DateTime d => d.ToUniversalTime().Ticks.ToString(CultureInfo.InvariantCulture),
            double x => x.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => p.ToString(),
        }));
        return "c1" + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
    }

    private static string[] Decode(string cursor)
    {
        try
        {
            if (!cursor.StartsWith("c1", StringComparison.Ordinal) || cursor.Length > 4096)
            {
                throw new FormatException();
            }

            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor.AsSpan(2))).Split(Separator);
        }
        catch (FormatException)
        {
            throw new RegistryException(ErrorCodes.InvalidCursor, "The cursor is not one this server handed out; start again without a cursor.");
        }
    }

    public static long ParseLong(string part) =>
        long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new RegistryException(ErrorCodes.InvalidCursor, "The cursor is not one this server handed out; start again without a cursor.");

    public static double ParseDouble(string part) =>
        double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new RegistryException(ErrorCodes.InvalidCursor, "The cursor is not one this server handed out; start again without a cursor.");

    public static bool IsNull(string part) => part == "\u0000";
}
