using Berth.Core.Configuration;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Auth;

/// <summary>
/// Authentication: one policy scheme that hands a bearer token to the Berth API-token handler, or, when
/// OIDC is configured and the token looks like a JWT (three dot-separated parts), to ASP.NET Core's JWT
/// bearer handler, which checks it against the identity provider's published keys.
/// </summary>
internal static class BerthAuthentication
{
    public const string SchemeName = "Berth";
    public const string OidcSchemeName = "Oidc";

    public static IServiceCollection AddBerthAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OidcOptions>().BindConfiguration(OidcOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var oidc = configuration.GetSection(OidcOptions.SectionName).Get<OidcOptions>() ?? new OidcOptions();
        services.AddSingleton<AuthenticationFailureLog>();

        var authentication = services.AddAuthentication(SchemeName)
            .AddPolicyScheme(SchemeName, null, o => o.ForwardDefaultSelector = context =>
                Oci.OciAuthenticationHandler.Applies(context) ? Oci.OciAuthenticationHandler.SchemeName
                : oidc.Enabled && IsJwt(context) ? OidcSchemeName
                : WebSessionAuthenticationHandler.Applies(context) ? WebSessionAuthenticationHandler.SchemeName
                : ApiTokenAuthenticationHandler.SchemeName)
            .AddScheme<ApiTokenAuthenticationOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddScheme<ApiTokenAuthenticationOptions, WebSessionAuthenticationHandler>(WebSessionAuthenticationHandler.SchemeName, null)
            .AddScheme<ApiTokenAuthenticationOptions, Oci.OciAuthenticationHandler>(Oci.OciAuthenticationHandler.SchemeName, null);
        if (!oidc.Enabled)
        {
            return services;
        }

        services.AddSingleton<OidcBearerEvents>();
        services.AddSingleton<OidcWebSignIn>();
        authentication.AddJwtBearer(OidcSchemeName, _ => { });
        services.AddOptions<JwtBearerOptions>(OidcSchemeName).Configure<IOptions<OidcOptions>>((jwt, options) => Configure(jwt, options.Value));
        return services;
    }

    private static void Configure(JwtBearerOptions jwt, OidcOptions oidc)
    {
        jwt.Authority = oidc.Issuer;
        jwt.Audience = oidc.Audience;
        jwt.RequireHttpsMetadata = oidc.RequireHttpsMetadata;
        // Claims keep their JWT names (sub, groups, preferred_username), as the options name them.
        jwt.MapInboundClaims = false;
        jwt.RefreshOnIssuerKeyNotFound = true;
        jwt.EventsType = typeof(OidcBearerEvents);
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = oidc.Issuer,
            ValidAudience = oidc.Audience,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = oidc.ClockSkew,
            NameClaimType = oidc.UserNameClaim,
            RoleClaimType = oidc.GroupsClaim,
        };

        // A token signed with a key the server has not seen yet makes it fetch the provider's keys again (at most
        // once per KeyRefreshInterval), and that request waits for the new keys (OidcConfigurationManager).
        jwt.Backchannel = new HttpClient { Timeout = jwt.BackchannelTimeout, MaxResponseContentBufferSize = 1024 * 1024 };
        var documents = new HttpDocumentRetriever(jwt.Backchannel) { RequireHttps = oidc.RequireHttpsMetadata };
        var manager = oidc.JwksUrl is { Length: > 0 } jwks
            ? new OidcConfigurationManager(jwks, new JwksConfigurationRetriever(oidc.Issuer!), documents, TimeProvider.System) // no discovery document: the key set itself
            : new OidcConfigurationManager(
                oidc.MetadataAddress is { Length: > 0 } metadata ? metadata : oidc.Issuer!.TrimEnd('/') + "/.well-known/openid-configuration",
                new OpenIdConnectConfigurationRetriever(),
                documents,
                TimeProvider.System);
        manager.RefreshInterval = oidc.KeyRefreshInterval;
        jwt.ConfigurationManager = manager;
    }

    /// <summary>A compact JWS: <c>Bearer header.payload.signature</c> (Berth tokens are <c>berth_…</c> and have no dots).</summary>
    private static bool IsJwt(HttpContext context)
    {
        var header = context.Request.Headers[HeaderNames.Authorization].ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var token = header.AsSpan("Bearer ".Length).Trim();
        return token.Count('.') == 2 && !token.StartsWith("berth_", StringComparison.Ordinal);
    }
}
