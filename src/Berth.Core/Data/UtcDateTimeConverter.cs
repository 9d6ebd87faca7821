using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Berth.Core.Data;

/// <summary>Every timestamp is UTC: stored as such and read back with <see cref="DateTimeKind.Utc"/>.</summary>
public sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
    v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
    v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
