using System.Security.Claims;
using Berth.Core.Auth;
using Berth.Core.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Server.Api.Auth;

/// <summary>
/// What a verified token of the identity provider says about its bearer, read the same way for the API's bearer JWTs
/// and the web sign-in's ID tokens, for <see cref="ExternalSignIn"/> to link to a Berth user.
/// </summary>
internal static class OidcClaims
{
    /// <summary>The identity, or null when the token has no <c>sub</c>.</summary>
    public static ExternalIdentity? Identity(ClaimsPrincipal principal, SecurityToken token, OidcOptions oidc)
    {
        string? Claim(string type) => principal.FindFirst(type)?.Value is { Length: > 0 } value ? value : null;
        if (Claim(JwtRegisteredClaimNames.Sub) is not { } subject)
        {
            return null;
        }

        return new ExternalIdentity(
            token.Issuer,
            subject,
            Claim(oidc.UserNameClaim),
            Claim(oidc.EmailClaim),
            Claim(oidc.DisplayNameClaim),
            principal.FindAll(oidc.GroupsClaim).Select(c => c.Value).Where(g => g.Length > 0).ToList(),
            token is JsonWebToken { IssuedAt: var issued } && issued != DateTime.MinValue ? new DateTimeOffset(issued, TimeSpan.Zero) : null);
    }
}
