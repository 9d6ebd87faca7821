using System.Net;
using System.Text.Json;

namespace Berth.Client;

/// <summary>
/// Any error answer of a Berth server: the HTTP status, the stable <see cref="Code"/> (see
/// <c>Berth.Contracts.Errors.ErrorCodes</c>), the human message, and the problem's extra members.
/// </summary>
public sealed class BerthProblemException : Exception
{
    public BerthProblemException(HttpStatusCode status, string code, string? title, string? detail, string? requestId, IReadOnlyDictionary<string, JsonElement> extensions)
        : base(detail ?? title ?? $"The server answered {(int)status}.")
    {
        Status = status;
        Code = code;
        Title = title;
        Detail = detail;
        RequestId = requestId;
        Extensions = extensions;
    }

    public HttpStatusCode Status { get; }

    /// <summary>The machine-readable error code, e.g. <c>model_not_found</c>.</summary>
    public string Code { get; }

    public string? Title { get; }

    public string? Detail { get; }

    public string? RequestId { get; }

    /// <summary>Members of the problem beyond the standard ones (for example <c>missing</c> or <c>offset</c>).</summary>
    public IReadOnlyDictionary<string, JsonElement> Extensions { get; }
}
