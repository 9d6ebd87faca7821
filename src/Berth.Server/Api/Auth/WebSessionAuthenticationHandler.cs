using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Berth.Core.Auth;
using Berth.Web.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Auth;

/// <summary>
/// The browser's sign-in: the web-session cookie (<see cref="SessionCookie"/>) holds the secret of a web-session token,
/// checked like any token on every request (revoked, expired, user disabled: the session ends at once) plus its idle
/// timeout. It authenticates the UI's pages and safe requests to the API (GET, HEAD: download links work), never an
/// unsafe API request, so a page on another site cannot make a signed-in browser change anything through the API.
/// A cookie that no longer works is removed, and the visitor is anonymous.
/// </summary>
internal sealed class WebSessionAuthenticationHandler(
    IOptionsMonitor<ApiTokenAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<ApiTokenAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "BerthWebSession";

    /// <summary>No Authorization header, a session cookie, and a page or a safe API method.</summary>
    public static bool Applies(HttpContext context) =>
        context.Request.Headers[HeaderNames.Authorization].Count == 0
        && context.Request.Cookies.ContainsKey(SessionCookie.Name)
        && (WebUi.IsPageRequest(context) || HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Applies(Context))
        {
            return AuthenticateResult.NoResult();
        }

        var cookie = Context.RequestServices.GetRequiredService<SessionCookie>();
        var secret = cookie.Read(Context, out var issuedAt);
        if (secret is null)
        {
            cookie.Clear(Context);
            return AuthenticateResult.NoResult();
        }

        var tokens = Context.RequestServices.GetRequiredService<TokenService>();
        var idle = Context.RequestServices.GetRequiredService<IOptions<WebOptions>>().Value.SessionIdleTimeout;
        var outcome = await tokens.AuthenticateWebSessionAsync(secret, idle, Context.RequestAborted);
        if (outcome.Actor is not { } actor)
        {
            cookie.Clear(Context);
            return AuthenticateResult.NoResult();
        }

        cookie.RefreshIfDue(Context, secret, issuedAt);
        Context.SetActor(actor);
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, actor.UserId.ToString(CultureInfo.InvariantCulture)), new Claim(ClaimTypes.Name, actor.Name)],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
