using System.Security.Claims;
using System.Text.Encodings.Web;
using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer berth_…</c>. No header means anonymous (what anonymous may
/// do is decided by <see cref="AccessControl"/>); a header with a bad token fails with a specific code.
/// The base handler's own log line for every failed authentication is switched off (it gets no logger):
/// refusals are logged by <see cref="AuthenticationFailureLog"/>, a few lines however many arrive.
/// </summary>
internal sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<ApiTokenAuthenticationOptions> options,
    AuthenticationFailureLog failures,
    UrlEncoder encoder) : AuthenticationHandler<ApiTokenAuthenticationOptions>(options, NullLoggerFactory.Instance, encoder)
{
    public const string SchemeName = "BerthToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers[HeaderNames.Authorization].ToString();
        if (header.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Failed(AuthenticationOutcome.Fail(ErrorCodes.TokenMalformed, "The Authorization header must be 'Bearer <token>'."));
        }

        var tokens = Context.RequestServices.GetRequiredService<TokenService>();
        var outcome = await tokens.AuthenticateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (outcome.Actor is not { } actor)
        {
            return Failed(outcome);
        }

        Context.SetActor(actor);
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, actor.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Claim(ClaimTypes.Name, actor.Name)],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private AuthenticateResult Failed(AuthenticationOutcome outcome)
    {
        failures.Refused(outcome.Failure?.Code ?? "unknown", outcome.Message ?? "", Context.Connection.RemoteIpAddress?.ToString());
        Context.Items[typeof(AuthenticationOutcome)] = outcome;
        return AuthenticateResult.Fail(outcome.Message ?? "Authentication failed.");
    }
}
