using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Berth.Core.Data;

/// <summary>Stores enums as lowercase names ('ready', 'stage'), readable in SQL and stable across reorderings.</summary>
public sealed class LowercaseEnumConverter<TEnum>() : ValueConverter<TEnum, string>(
    v => v.ToString().ToLowerInvariant(),
    v => Enum.Parse<TEnum>(v, true))
    where TEnum : struct, Enum;
