using Berth.Contracts.Errors;
using Berth.Core.Errors;

namespace Berth.Core.Filtering;

internal static class FilterErrors
{
    /// <summary>An <see cref="ErrorCodes.InvalidFilter"/> failure whose <c>position</c> extension is the 0-based character index.</summary>
    public static RegistryException At(int position, string message) =>
        new(ErrorCodes.InvalidFilter, $"{message} (at position {position})", new Dictionary<string, object?> { ["position"] = position });
}
