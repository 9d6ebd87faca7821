using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Berth.Server.Api.Auth;

public static class ActorExtensions
{
    private static readonly object ActorKey = new();

    /// <summary>The caller: the token's user, or <see cref="Actor.Anonymous"/>. Throws 401 when a token was sent and refused.</summary>
    public static Actor GetActor(this HttpContext context)
    {
        if (context.Items.TryGetValue(ActorKey, out var actor) && actor is Actor known)
        {
            return known;
        }

        if (context.Items.TryGetValue(typeof(AuthenticationOutcome), out var failure) && failure is AuthenticationOutcome { Failure: { } code } outcome)
        {
            throw new RegistryException(code, outcome.Message ?? code.Title)
            {
                // The identity provider could not be reached to check the token.
                Headers = code == ErrorCodes.Unavailable ? new Dictionary<string, string> { ["Retry-After"] = "5" } : new Dictionary<string, string>(),
            };
        }

        if (context.Request.Headers.Authorization.ToString().Length > 0)
        {
            // Credentials that no handler accepted or explained are still never anonymous access.
            throw new RegistryException(ErrorCodes.TokenInvalid, "The bearer token could not be validated.");
        }

        return Actor.Anonymous;
    }

    /// <summary>The authenticated caller, or <see cref="Actor.Anonymous"/>; never throws (for pages and audit context, which show a refused token as anonymous).</summary>
    public static Actor PeekActor(this HttpContext context) => context.AuthenticatedActor() ?? Actor.Anonymous;

    /// <summary>The caller whose credentials were accepted, or null (anonymous, or refused credentials); never throws.</summary>
    internal static Actor? AuthenticatedActor(this HttpContext context) =>
        context.Items.TryGetValue(ActorKey, out var actor) && actor is Actor known ? known : null;

    internal static void SetActor(this HttpContext context, Actor actor) => context.Items[ActorKey] = actor;
}
