using System.Text.Json.Serialization;
using Berth.Core.Oci;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace Berth.Server.Oci;

/// <summary>Answers of the <c>/v2/</c> API: the spec's error envelope, its headers and the token endpoint's JSON.</summary>
internal static class OciResponses
{
    public const string ApiVersionHeader = "Docker-Distribution-API-Version";
    public const string DigestHeader = "Docker-Content-Digest";

    public sealed record ErrorEnvelope(IReadOnlyList<ErrorEntry> Errors);

    public sealed record ErrorEntry(string Code, string Message, [property: JsonPropertyName("detail")] string? Detail);

    public sealed record TokenResponse(
        [property: JsonPropertyName("token")] string Token,
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn,
        [property: JsonPropertyName("issued_at")] string IssuedAt);

    public sealed record TagList(string Name, IReadOnlyList<string> Tags);

    /// <summary>
    /// Writes <c>{"errors":[{"code","message","detail"}]}</c> with the error's status; a 401 carries the challenge that
    /// tells the client where to get a token (<paramref name="challenge"/>).
    /// </summary>
    public static async Task WriteErrorAsync(HttpContext context, OciError error, string detail, int? status = null, IReadOnlyDictionary<string, string>? headers = null, string? challenge = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            context.Abort();
            return;
        }

        response.Clear();
        response.StatusCode = status ?? error.Status;
        response.Headers[ApiVersionHeader] = "registry/2.0";
        response.Headers.CacheControl = "no-store";
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            response.Headers[name] = value;
        }

        if (challenge is not null)
        {
            response.Headers.WWWAuthenticate = challenge;
        }

        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages)
        {
            pages.Enabled = false;
        }

        response.ContentType = "application/json";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        await response.WriteAsJsonAsync(new ErrorEnvelope([new ErrorEntry(error.Code, detail, null)]), OciJsonContext.Default.ErrorEnvelope, "application/json", context.RequestAborted);
    }
}
