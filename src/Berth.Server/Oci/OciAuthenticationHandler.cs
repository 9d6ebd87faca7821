using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Berth.Core.Auth;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Oci;

/// <summary>
/// Authenticates requests to <c>/v2/</c> the way registry clients send credentials: HTTP Basic with a user name and an
/// API token as the password (<c>docker login</c>), a bearer token from <c>/v2/token</c>, or a Berth API token as a
/// bearer token. No header is anonymous. A refusal is remembered and answered as the spec's UNAUTHORIZED with a challenge.
/// </summary>
internal sealed class OciAuthenticationHandler(
    IOptionsMonitor<ApiTokenAuthenticationOptions> options,
    AuthenticationFailureLog failures,
    UrlEncoder encoder) : AuthenticationHandler<ApiTokenAuthenticationOptions>(options, NullLoggerFactory.Instance, encoder)
{
    public const string SchemeName = "Oci";

    private static readonly object FailureKey = new();
    private static readonly object GrantsKey = new();

    /// <summary>Requests of the OCI distribution API.</summary>
    public static bool Applies(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/v2", StringComparison.Ordinal);

    /// <summary>Why the credentials were refused (null: none were, or none were sent).</summary>
    public static string? Failure(HttpContext context) => context.Items.TryGetValue(FailureKey, out var failure) ? failure as string : null;

    /// <summary>The grants of a <c>/v2/token</c> bearer token (null: the caller used other credentials, or none).</summary>
    public static OciGrants? Grants(HttpContext context) => context.Items.TryGetValue(GrantsKey, out var grants) ? grants as OciGrants : null;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers[HeaderNames.Authorization].ToString();
        if (header.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        var tokens = Context.RequestServices.GetRequiredService<TokenService>();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            }
            catch (FormatException)
            {
                return Refuse("token_malformed", "The Basic credentials are not base64.");
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                return Refuse("token_malformed", "Basic credentials are '<user>:<API token>'.");
            }

            var user = decoded[..colon];
            var outcome = await tokens.AuthenticateAsync(decoded[(colon + 1)..], Context.RequestAborted);
            if (outcome.Actor is not { } basicActor)
            {
                return Refuse(outcome.Failure?.Code ?? "token_invalid", $"{outcome.Message} Log in with your user name and an API token ('berth token create') as the password.");
            }

            if (!string.Equals(user, basicActor.Name, StringComparison.Ordinal))
            {
                return Refuse("token_invalid", $"The API token does not belong to user '{user}'.");
            }

            return Accept(basicActor, null);
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Refuse("token_malformed", "The Authorization header must be 'Basic …' or 'Bearer …'.");
        }

        var token = header["Bearer ".Length..].Trim();
        if (OciTokens.Looks(token))
        {
            var read = Context.RequestServices.GetRequiredService<OciTokens>().Read(token);
            return read is { } valid ? Accept(valid.Actor, valid.Grants) : Refuse("token_invalid", "The registry token is invalid or expired; get a new one from /v2/token.");
        }

        var bearer = await tokens.AuthenticateAsync(token, Context.RequestAborted);
        return bearer.Actor is { } actor ? Accept(actor, null) : Refuse(bearer.Failure?.Code ?? "token_invalid", bearer.Message ?? "The token was refused.");
    }

    private AuthenticateResult Accept(Actor actor, OciGrants? grants)
    {
        if (grants is not null)
        {
            Context.Items[GrantsKey] = grants;
        }

        if (actor.IsAnonymous)
        {
            // A token issued to nobody: its grants are all it brings.
            return AuthenticateResult.NoResult();
        }

        Context.SetActor(actor);
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, actor.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Claim(ClaimTypes.Name, actor.Name)],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private AuthenticateResult Refuse(string code, string message)
    {
        failures.Refused(code, message, Context.Connection.RemoteIpAddress?.ToString());
        Context.Items[FailureKey] = message;
        return AuthenticateResult.Fail(message);
    }
}
