using System.Diagnostics.CodeAnalysis;
using Berth.Contracts.Errors;

namespace Berth.Core.Errors;

/// <summary>Throw helpers that keep the calling code small.</summary>
public static class Fail
{
    [DoesNotReturn]
    public static void With(ErrorCode error, string message, IReadOnlyDictionary<string, object?>? extensions = null) =>
        throw new RegistryException(error, message, extensions);

    public static RegistryException Error(ErrorCode error, string message, IReadOnlyDictionary<string, object?>? extensions = null) =>
        new(error, message, extensions);

    /// <summary>Throws <paramref name="error"/> with <paramref name="problem"/> as its message when the check found one.</summary>
    public static void If(string? problem, ErrorCode error)
    {
        if (problem is not null)
        {
            throw new RegistryException(error, problem);
        }
    }
}
