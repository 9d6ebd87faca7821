using Berth.Contracts.Errors;

namespace Berth.Core.Errors;

/// <summary>
/// A failure the caller can act on, carrying a stable <see cref="ErrorCode"/>. The API maps it to a
/// problem-details response; <see cref="Extensions"/> become extra members of that problem (for
/// example the digests still missing, or the position of a syntax error).
/// </summary>
public sealed class RegistryException(ErrorCode error, string message, IReadOnlyDictionary<string, object?>? extensions = null)
    : Exception(message)
{
    public ErrorCode Error { get; } = error;

    public IReadOnlyDictionary<string, object?> Extensions { get; } = extensions ?? new Dictionary<string, object?>();

    /// <summary>Extra response headers (e.g. the current <c>Upload-Offset</c>).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}
