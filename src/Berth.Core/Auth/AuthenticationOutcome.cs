using Berth.Contracts.Errors;

namespace Berth.Core.Auth;

/// <summary>The result of checking a bearer token: an actor, or the reason it was refused.</summary>
public sealed record AuthenticationOutcome(Actor? Actor, ErrorCode? Failure, string? Message)
{
    public static AuthenticationOutcome Success(Actor actor) => new(actor, null, null);

    public static AuthenticationOutcome Fail(ErrorCode code, string message) => new(null, code, message);
}
