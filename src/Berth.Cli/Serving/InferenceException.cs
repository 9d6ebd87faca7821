namespace Berth.Cli.Serving;

/// <summary>
/// A refused request: answered in the protocol's error format, <c>{"error": message, "code": code}</c>, with
/// <paramref name="status"/> (400 bad input, 404 unknown model or version, 413 too large, 503 not ready).
/// </summary>
internal sealed class InferenceException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>Stable, for clients to switch on (docs/serving.md lists them); the protocol itself only has <c>error</c>.</summary>
    public string Code { get; } = code;

    public static InferenceException BadInput(string message) => new(400, ServingErrors.InvalidInput, message);
}
