using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Configuration;
using Berth.Core.Errors;
using Berth.Web.Components.Pages.Auth;
using Berth.Web.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Server.Api.Auth;

/// <summary>
/// "Sign in with &lt;provider&gt;" in the browser: the OpenID Connect authorization-code flow with PKCE (S256), state and
/// nonce. <c>GET /signin/oidc</c> sends the browser to the provider; <c>GET /oidc/callback</c> takes it back, exchanges the
/// code at the provider's token endpoint, validates the ID token (signature by the provider's keys, issuer, audience =
/// the client id, expiry, nonce), links the user exactly as a bearer JWT is linked (<see cref="OidcClaims"/>,
/// <see cref="ExternalSignIn"/>) and starts a web session like a password sign-in. Between the two requests the state,
/// nonce, PKCE verifier and return path live only in a short-lived, data-protected cookie: the server keeps nothing,
/// so any replica may answer the callback.
/// </summary>
internal sealed partial class OidcWebSignIn(
    IOptions<OidcOptions> options,
    IOptionsMonitor<JwtBearerOptions> jwtOptions,
    IDataProtectionProvider protection,
    ILogger<OidcWebSignIn> logger)
{
    public const string StartPath = "/signin/oidc";
    public const string CallbackPath = "/oidc/callback";
    public const string CookieName = "berth_oidc";

    /// <summary>How long a browser has to come back from the provider.</summary>
    public static readonly TimeSpan FlowLifetime = TimeSpan.FromMinutes(10);

    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("Berth.Web.OidcSignIn.v1").ToTimeLimitedDataProtector();

    private OidcOptions Oidc => options.Value;

    private string Provider => Oidc.SignInName;

    public static IEndpointRouteBuilder MapOidcWebSignIn(IEndpointRouteBuilder endpoints, OidcOptions oidc)
    {
        if (oidc.WebSignInEnabled)
        {
            endpoints.MapGet(StartPath, (HttpContext context, OidcWebSignIn flow, Flash flash, string? @return) => flow.StartAsync(context, flash, @return)).ExcludeFromDescription();
            endpoints.MapGet(CallbackPath, (HttpContext context, OidcWebSignIn flow, Flash flash, ExternalSignIn external, UserService users, AuditContext audit, SessionCookie cookie, IOptions<WebOptions> web) =>
                flow.CallbackAsync(context, flash, new SignInServices(external, users, audit, cookie, web.Value))).ExcludeFromDescription();
        }

        return endpoints;
    }

    /// <summary>Sends the browser to the provider's authorization endpoint, remembering the flow in the cookie.</summary>
    private async Task<IResult> StartAsync(HttpContext context, Flash flash, string? returnTo)
    {
        var back = SignIn.SafeReturn(returnTo);
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await ConfigurationAsync(context.RequestAborted);
        }
        catch (SignInFailure failure)
        {
            return Refuse(context, flash, back, failure);
        }

        if (string.IsNullOrEmpty(configuration.AuthorizationEndpoint))
        {
            return Refuse(context, flash, back,
                new SignInFailure("provider_incomplete", $"{Provider}'s discovery document names no authorization endpoint, so the browser sign-in cannot start; sign in with a password, or ask an administrator to set Oidc:MetadataAddress."));
        }

        var flow = new Flow(Random(), Random(), Random(), back);
        context.Response.Cookies.Append(CookieName, _protector.Protect(JsonSerializer.Serialize(flow, FlowJson.Default.Flow), FlowLifetime), CookieOptions(context));
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = Oidc.EffectiveClientId,
            ["redirect_uri"] = RedirectUri(context),
            ["scope"] = Scopes(),
            ["state"] = flow.State,
            ["nonce"] = flow.Nonce,
            ["code_challenge"] = Challenge(flow.Verifier),
            ["code_challenge_method"] = "S256",
        };
        return Results.Redirect(Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(configuration.AuthorizationEndpoint, query));
    }

    /// <summary>The provider's answer: checks it, signs the user in and sends the browser where it wanted to go.</summary>
    private async Task<IResult> CallbackAsync(HttpContext context, Flash flash, SignInServices services)
    {
        var (external, users, audit, cookie, web) = services;
        var query = context.Request.Query;
        var flow = ReadFlow(context);
        context.Response.Cookies.Delete(CookieName, CookieOptions(context));
        var back = flow?.Return ?? "/";
        try
        {
            if (flow is null)
            {
                throw new SignInFailure("flow_missing", $"The sign-in with {Provider} expired or was not started in this browser; try again.");
            }

            if (!FixedTimeEquals(query["state"].ToString(), flow.State))
            {
                throw new SignInFailure("state_mismatch", $"The answer from {Provider} does not belong to the sign-in this browser started; try again.");
            }

            if (query["error"].ToString() is { Length: > 0 } error)
            {
                var description = query["error_description"].ToString();
                throw new SignInFailure(error, error == "access_denied"
                    ? $"{Provider} did not sign you in (access denied{(description.Length > 0 ? ": " + Clip(description) : "")})."
                    : $"{Provider} did not sign you in: {Clip(error)}{(description.Length > 0 ? " (" + Clip(description) + ")" : "")}.");
            }

            if (query["code"].ToString() is not { Length: > 0 } code)
            {
                throw new SignInFailure("code_missing", $"{Provider} sent the browser back without a sign-in code; try again.");
            }

            var configuration = await ConfigurationAsync(context.RequestAborted);
            var idToken = await RedeemAsync(configuration, code, flow.Verifier, RedirectUri(context), context.RequestAborted);
            var (principal, token) = await ValidateAsync(idToken, configuration, context.RequestAborted);
            if (!FixedTimeEquals(principal.FindFirst(JwtRegisteredClaimNames.Nonce)?.Value ?? "", flow.Nonce))
            {
                throw new SignInFailure("nonce_mismatch", $"{Provider}'s ID token was not issued for this sign-in (its nonce differs); try again.");
            }

            if (OidcClaims.Identity(principal, token, Oidc) is not { } identity)
            {
                throw new SignInFailure("sub_missing", $"{Provider}'s ID token has no 'sub' claim.");
            }

            // As for a bearer JWT: changes made while linking the user (a new user, team memberships) are audited with this request.
            audit.Set(Actor.System, context.Connection.RemoteIpAddress?.ToString(), AccessMiddleware.RequestId(context));
            var outcome = await external.SignInAsync(identity, context.RequestAborted);
            if (outcome.Actor is not { IsUser: true } actor)
            {
                throw new SignInFailure(outcome.Failure?.Code ?? "refused", outcome.Message ?? $"{Provider} signed you in, but Berth refused the user.");
            }

            var session = await users.SignInExternalWebAsync(actor.UserId, web.SessionLifetime, audit, context.RequestAborted);
            cookie.Issue(context, session.Token);
            return Results.Redirect(back);
        }
        catch (SignInFailure failure)
        {
            return Refuse(context, flash, back, failure);
        }
        catch (RegistryException e)
        {
            return Refuse(context, flash, back, new SignInFailure(e.Error.Code, e.Message));
        }
    }

    private IResult Refuse(HttpContext context, Flash flash, string back, SignInFailure failure)
    {
        LogRefused(logger, failure.Reason, context.Connection.RemoteIpAddress?.ToString());
        flash.Error(failure.Message);
        return Results.Redirect(back == "/" ? "/signin" : "/signin?return=" + Uri.EscapeDataString(back));
    }

    private async Task<OpenIdConnectConfiguration> ConfigurationAsync(CancellationToken cancellationToken)
    {
        var manager = jwtOptions.Get(BerthAuthentication.OidcSchemeName).ConfigurationManager
            ?? throw new InvalidOperationException("The OIDC scheme has no configuration manager.");
        try
        {
            return (OpenIdConnectConfiguration)await manager.GetConfigurationAsync(cancellationToken);
        }
        catch (OidcMetadataUnavailableException e)
        {
            LogProviderUnreachable(logger, e, Oidc.Issuer);
            throw new SignInFailure("provider_unreachable", $"{Provider} could not be reached; try again in a moment, or sign in with a password.");
        }
    }

    /// <summary>Exchanges the code (with the PKCE verifier and, for a confidential client, the secret) for the ID token.</summary>
    private async Task<string> RedeemAsync(OpenIdConnectConfiguration configuration, string code, string verifier, string redirectUri, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(configuration.TokenEndpoint)
            || !Uri.TryCreate(configuration.TokenEndpoint, UriKind.Absolute, out var endpoint)
            || (Oidc.RequireHttpsMetadata && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new SignInFailure("provider_incomplete", $"{Provider}'s discovery document names no usable token endpoint (https is required).");
        }

        var clientId = Oidc.EffectiveClientId!;
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = redirectUri,
            ["code_verifier"] = verifier,
            ["client_id"] = clientId,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (Oidc.ClientSecret is { Length: > 0 } secret)
        {
            // client_secret_basic (RFC 6749 2.3.1: both parts form-encoded first).
            var basic = Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(secret);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
        }

        var backchannel = jwtOptions.Get(BerthAuthentication.OidcSchemeName).Backchannel;
        HttpResponseMessage response;
        try
        {
            response = await backchannel.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            LogProviderUnreachable(logger, e, Oidc.Issuer);
            throw new SignInFailure("provider_unreachable", $"{Provider}'s token endpoint could not be reached; try again in a moment.");
        }

        using (response)
        {
            JsonElement body;
            try
            {
                body = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(cancellationToken), FlowJson.Default.JsonElement);
            }
            catch (JsonException)
            {
                body = default;
            }

            string? Field(string name) => body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (!response.IsSuccessStatusCode)
            {
                var error = Field("error") ?? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var description = Field("error_description");
                throw new SignInFailure("token_" + Clip(error), $"{Provider} refused the sign-in code: {Clip(error)}{(description is { Length: > 0 } ? " (" + Clip(description) + ")" : "")}; try again.");
            }

            return Field("id_token") is { Length: > 0 } idToken
                ? idToken
                : throw new SignInFailure("id_token_missing", $"{Provider}'s token endpoint answered without an ID token (is 'openid' among the client's scopes?).");
        }
    }

    /// <summary>The ID token's signature (the provider's keys, fetched again once for an unknown key id), issuer, audience (the client id) and lifetime.</summary>
    private async Task<(ClaimsPrincipal Principal, SecurityToken Token)> ValidateAsync(string idToken, OpenIdConnectConfiguration configuration, CancellationToken cancellationToken)
    {
        var jwt = jwtOptions.Get(BerthAuthentication.OidcSchemeName);
        var handler = new JsonWebTokenHandler { MapInboundClaims = false };
        var result = await handler.ValidateTokenAsync(idToken, Parameters(jwt, configuration));
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && jwt.ConfigurationManager is { } manager)
        {
            // The provider rolled its keys over: fetch them again (rate-limited, as for bearer tokens) and check once more.
            manager.RequestRefresh();
            result = await handler.ValidateTokenAsync(idToken, Parameters(jwt, await ConfigurationAsync(cancellationToken)));
        }

        if (!result.IsValid)
        {
            var reason = result.Exception switch
            {
                SecurityTokenExpiredException => "it has expired",
                SecurityTokenInvalidIssuerException => "it was issued by another issuer",
                SecurityTokenInvalidAudienceException => "it was issued for another client",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "its signature matches none of the provider's keys",
                _ => "it is not valid",
            };
            throw new SignInFailure("id_token_invalid", $"{Provider}'s ID token was refused: {reason}; try again.");
        }

        return (new ClaimsPrincipal(result.ClaimsIdentity), result.SecurityToken);
    }

    private TokenValidationParameters Parameters(JwtBearerOptions jwt, OpenIdConnectConfiguration configuration)
    {
        var parameters = jwt.TokenValidationParameters.Clone();
        parameters.ValidAudience = Oidc.EffectiveClientId;
        parameters.ValidAudiences = null;
        parameters.IssuerSigningKeys = configuration.SigningKeys;
        parameters.ConfigurationManager = null;
        return parameters;
    }

    private Flow? ReadFlow(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value) || value.Length > 4096)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(_protector.Unprotect(value), FlowJson.Default.Flow);
        }
        catch (Exception e) when (e is CryptographicException or JsonException)
        {
            // Expired, tampered with, or made with keys this server does not know.
            return null;
        }
    }

    private string RedirectUri(HttpContext context) =>
        Oidc.RedirectUri is { Length: > 0 } configured ? configured : $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{CallbackPath}";

    private string Scopes()
    {
        var scopes = Oidc.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (!scopes.Contains("openid", StringComparer.Ordinal))
        {
            scopes.Insert(0, "openid");
        }

        return string.Join(' ', scopes);
    }

    private static CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        Secure = context.Request.IsHttps,
        // Lax: the provider sends the browser back with a top-level GET, which carries Lax cookies.
        SameSite = SameSiteMode.Lax,
        Path = "/oidc",
        IsEssential = true,
        MaxAge = FlowLifetime,
    };

    private static string Random() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>The PKCE S256 challenge: base64url(SHA-256(verifier)).</summary>
    internal static string Challenge(string verifier) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    private static bool FixedTimeEquals(string a, string b) =>
        a.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>Text from the provider, shown to the user: bounded, one line.</summary>
    private static string Clip(string text)
    {
        var line = new string(text.Where(c => !char.IsControl(c)).Take(200).ToArray());
        return line;
    }

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Browser sign-in with the identity provider refused ({Reason}) from {ClientAddress}")]
    private static partial void LogRefused(ILogger logger, string reason, string? clientAddress);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "The identity provider {Issuer} could not be reached for the browser sign-in")]
    private static partial void LogProviderUnreachable(ILogger logger, Exception exception, string? issuer);

    private sealed record SignInServices(ExternalSignIn External, UserService Users, AuditContext Audit, SessionCookie Cookie, WebOptions Web);

    /// <summary>What the cookie carries between the two requests.</summary>
    internal sealed record Flow(string State, string Nonce, string Verifier, string Return);

    private sealed class SignInFailure(string reason, string message) : Exception(message)
    {
        public string Reason { get; } = reason;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(OidcWebSignIn.Flow))]
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class FlowJson : System.Text.Json.Serialization.JsonSerializerContext;
