namespace Berth.Contracts.Errors;

/// <summary>
/// A stable, machine-readable error: the <c>code</c> of a problem-details response, the HTTP status it
/// is sent with, and a short title. Codes never change once released; clients switch on them.
/// </summary>
public sealed record ErrorCode(string Code, int Status, string Title)
{
    /// <summary>The problem <c>type</c> URI for this code.</summary>
    public string TypeUri => ErrorCodes.TypeUriPrefix + Code;

    public override string ToString() => Code;
}
