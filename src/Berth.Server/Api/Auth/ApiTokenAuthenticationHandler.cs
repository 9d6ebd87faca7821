using System.Security.Claims;
using System.Text.Encodings.Web;
using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer berth_…</c>. No header means anonymous (what anonymous may
/// do is decided by <see cref="AccessControl"/>); a header with a bad token fails with a specific code.
/// </summary>
internal sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<ApiTokenAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<ApiTokenAuthenticationOptions>(options, logger, encoder)
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
        Context.Items[typeof(AuthenticationOutcome)] = outcome;
        return AuthenticateResult.Fail(outcome.Message ?? "Authentication failed.");
    }
}
