namespace Berth.Core.Insight.Pickle;

/// <summary>PyTorch's storage classes and dtype names, as they appear in its pickles.</summary>
internal static class TorchDtypes
{
    private static readonly Dictionary<string, string> Storages = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = "float32",
        ["DoubleStorage"] = "float64",
        ["HalfStorage"] = "float16",
        ["BFloat16Storage"] = "bfloat16",
        ["LongStorage"] = "int64",
        ["IntStorage"] = "int32",
        ["ShortStorage"] = "int16",
        ["CharStorage"] = "int8",
        ["ByteStorage"] = "uint8",
        ["BoolStorage"] = "bool",
        ["ComplexFloatStorage"] = "complex64",
        ["ComplexDoubleStorage"] = "complex128",
        ["ComplexHalfStorage"] = "complex32",
        ["QInt8Storage"] = "qint8",
        ["QUInt8Storage"] = "quint8",
        ["QInt32Storage"] = "qint32",
        ["QUInt4x2Storage"] = "quint4x2",
        ["QUInt2x4Storage"] = "quint2x4",
        ["Float8_e4m3fnStorage"] = "float8_e4m3fn",
        ["Float8_e5m2Storage"] = "float8_e5m2",
        ["Float8_e4m3fnuzStorage"] = "float8_e4m3fnuz",
        ["Float8_e5m2fnuzStorage"] = "float8_e5m2fnuz",
        ["UInt16Storage"] = "uint16",
        ["UInt32Storage"] = "uint32",
        ["UInt64Storage"] = "uint64",
        ["UntypedStorage"] = "uint8",
    };

    private static readonly HashSet<string> Dtypes = new(StringComparer.Ordinal)
    {
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int", "int16", "short",
        "int8", "uint8", "bool", "complex64", "cfloat", "complex128", "cdouble", "complex32", "qint8", "quint8", "qint32",
        "quint4x2", "float8_e4m3fn", "float8_e5m2", "uint16", "uint32", "uint64",
    };

    public static string? StorageDtype(string name) => Storages.GetValueOrDefault(name);

    /// <summary>Bytes per element of a dtype name as <see cref="StorageDtype"/> gives it (1 when unknown).</summary>
    public static int ElementSize(string dtype) => dtype switch
    {
        "float64" or "int64" or "uint64" or "complex64" => 8,
        "complex128" => 16,
        "float32" or "int32" or "uint32" or "qint32" or "complex32" => 4,
        "float16" or "bfloat16" or "int16" or "uint16" => 2,
        _ => 1,
    };

    public static bool IsDtypeName(string name) => Dtypes.Contains(name);
}
