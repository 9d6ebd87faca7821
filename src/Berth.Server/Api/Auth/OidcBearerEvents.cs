using Berth.Contracts.Errors;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Server.Api.Auth;

/// <summary>
/// Hooks of the JWT bearer handler: a verified token becomes a Berth actor through <see cref="ExternalSignIn"/>;
/// a refused one leaves an <see cref="AuthenticationOutcome"/> with a stable code, answered like a refused
/// API token when the endpoint needs a caller.
/// </summary>
internal sealed partial class OidcBearerEvents(IOptions<OidcOptions> options, AuthenticationFailureLog failures, ILogger<OidcBearerEvents> logger) : JwtBearerEvents
{
    public override async Task TokenValidated(TokenValidatedContext context)
    {
        var http = context.HttpContext;
        if (OidcClaims.Identity(context.Principal!, context.SecurityToken, options.Value) is not { } identity)
        {
            Refuse(context, AuthenticationOutcome.Fail(ErrorCodes.TokenInvalid, "The identity provider's token has no 'sub' claim."));
            return;
        }

        // Changes made at sign-in (a new user, team memberships) are audited with this request's address and id.
        http.RequestServices.GetRequiredService<AuditContext>().Set(Actor.System, http.Connection.RemoteIpAddress?.ToString(), AccessMiddleware.RequestId(http));
        var outcome = await http.RequestServices.GetRequiredService<ExternalSignIn>().SignInAsync(identity, http.RequestAborted);
        if (outcome.Actor is { } actor)
        {
            http.SetActor(actor);
        }
        else
        {
            Refuse(context, outcome);
        }
    }

    /// <summary>A bearer token no JWT handler can even parse gets the same answer as any malformed token (not anonymous access).</summary>
    public override Task MessageReceived(MessageReceivedContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        if (!context.Options.TokenHandlers.Any(h => h is JsonWebTokenHandler jwt && jwt.CanReadToken(token)))
        {
            Refuse(context, AuthenticationOutcome.Fail(ErrorCodes.TokenMalformed, "The bearer token is neither a Berth API token nor a well-formed JWT."));
        }

        return Task.CompletedTask;
    }

    public override async Task AuthenticationFailed(AuthenticationFailedContext context)
    {
        if (context.Exception is SecurityTokenSignatureKeyNotFoundException && !await KeysAvailableAsync(context))
        {
            // No keys because the provider could not be asked for them: not the token's fault.
            Refuse(context, Unavailable(context.Exception));
            return;
        }

        var outcome = context.Exception switch
        {
            SecurityTokenExpiredException e => AuthenticationOutcome.Fail(ErrorCodes.TokenExpired, $"The identity provider's token expired at {e.Expires:u}; sign in again."),
            SecurityTokenNotYetValidException e => AuthenticationOutcome.Fail(ErrorCodes.TokenInvalid, $"The identity provider's token is not valid before {e.NotBefore:u}."),
            SecurityTokenInvalidIssuerException e => AuthenticationOutcome.Fail(ErrorCodes.TokenInvalid, $"The token was issued by '{e.InvalidIssuer}', not by this server's identity provider ({options.Value.Issuer})."),
            SecurityTokenInvalidAudienceException e => AuthenticationOutcome.Fail(ErrorCodes.TokenInvalid, $"The token is for the audience '{e.InvalidAudience}', not for this server ({options.Value.Audience})."),
            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException =>
                AuthenticationOutcome.Fail(ErrorCodes.TokenInvalid, "The token's signature does not match any key of the identity provider."),
            SecurityTokenMalformedException or ArgumentException => AuthenticationOutcome.Fail(ErrorCodes.TokenMalformed, "The bearer token is not a well-formed JWT."),
            SecurityTokenException e => AuthenticationOutcome.Fail(ErrorCodes.TokenInvalid, $"The identity provider's token was refused: {e.GetType().Name.Replace("SecurityToken", "", StringComparison.Ordinal)}."),
            var e when IsMetadataFailure(e) => Unavailable(e),
            _ => null,
        };
        if (outcome is null)
        {
            // Not a verdict on the token (the database failed while mapping the user, say): the handler
            // rethrows it, and it is answered like any other failure.
            return;
        }

        failures.Refused(outcome.Failure!.Code, outcome.Message ?? outcome.Failure.Title, context.HttpContext.Connection.RemoteIpAddress?.ToString());
        Refuse(context, outcome);
    }

    /// <summary>Whether the provider's configuration (with its keys) can be had; cached by the configuration manager.</summary>
    private static async Task<bool> KeysAvailableAsync(AuthenticationFailedContext context)
    {
        if (context.Options.ConfigurationManager is not { } manager)
        {
            return true;
        }

        try
        {
            await manager.GetConfigurationAsync(context.HttpContext.RequestAborted);
            return true;
        }
        catch (Exception e) when (IsMetadataFailure(e))
        {
            return false;
        }
    }

    private AuthenticationOutcome Unavailable(Exception exception)
    {
        LogProviderUnreachable(logger, exception, options.Value.Issuer);
        return AuthenticationOutcome.Fail(ErrorCodes.Unavailable, "The identity provider's keys could not be fetched to check the token; retry later.");
    }

    /// <summary>The discovery document or key set could not be fetched (possibly wrapped by the token handler).</summary>
    private static bool IsMetadataFailure(Exception exception) =>
        exception is OidcMetadataUnavailableException || exception.InnerException is OidcMetadataUnavailableException;

    private static void Refuse(ResultContext<JwtBearerOptions> context, AuthenticationOutcome outcome)
    {
        context.HttpContext.Items[typeof(AuthenticationOutcome)] = outcome;
        context.Fail(outcome.Message ?? "Authentication failed.");
    }

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "The identity provider {Issuer} could not be reached for its keys")]
    private static partial void LogProviderUnreachable(ILogger logger, Exception exception, string? issuer);
}
