using Berth.Core.Data.Entities;

namespace Berth.Core.Filtering;

/// <summary>
/// The fields of <c>metadata.*</c> and <c>scan.*</c>: what Berth read inside a version (its <see cref="VersionInsightRecord"/>),
/// each a column of that row, a string or a number, missing while the version has not been read (or, for <c>scan.*</c>,
/// when its namespace's scan policy is off).
/// </summary>
public static class InsightFields
{
    public sealed record Field(string Column, bool Number);

    private static readonly Dictionary<string, Field> MetadataFields = new(StringComparer.Ordinal)
    {
        ["framework"] = new(nameof(VersionInsightRecord.Framework), false),
        ["format"] = new(nameof(VersionInsightRecord.Format), false),
        ["parameters"] = new(nameof(VersionInsightRecord.Parameters), true),
        ["precision"] = new(nameof(VersionInsightRecord.Precision), false),
        ["quantization"] = new(nameof(VersionInsightRecord.Quantization), false),
        ["state"] = new(nameof(VersionInsightRecord.State), false),
    };

    private static readonly Dictionary<string, Field> ScanFields = new(StringComparer.Ordinal)
    {
        ["verdict"] = new(nameof(VersionInsightRecord.ScanVerdict), false),
        ["dangerous"] = new(nameof(VersionInsightRecord.DangerousFiles), true),
        ["suspicious"] = new(nameof(VersionInsightRecord.SuspiciousFiles), true),
        ["scanned"] = new(nameof(VersionInsightRecord.ScannedFiles), true),
    };

    public static IReadOnlyCollection<string> MetadataKeys => MetadataFields.Keys;

    public static IReadOnlyCollection<string> ScanKeys => ScanFields.Keys;

    /// <summary>The column of a <c>metadata.*</c> or <c>scan.*</c> field; null when the key is not one.</summary>
    public static Field? Find(FilterFieldKind kind, string? key) =>
        key is null ? null
        : kind == FilterFieldKind.Metadata ? MetadataFields.GetValueOrDefault(key)
        : kind == FilterFieldKind.Scan ? ScanFields.GetValueOrDefault(key)
        : null;

    /// <summary>A field's value in a version's record (null when missing): a string, or a double for numbers.</summary>
    public static object? Value(VersionInsightRecord? record, Field field)
    {
        if (record is null)
        {
            return null;
        }

        var value = typeof(VersionInsightRecord).GetProperty(field.Column)!.GetValue(record);
        return value switch
        {
            null => null,
            long l => (double)l,
            int i => (double)i,
            _ => value,
        };
    }
}
