using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Api.Tests.Support;

/// <summary>
/// The provider's browser sign-in: <c>/authorize</c> approves at once (as <see cref="OidcProvider.User"/>) and sends the
/// browser back with a code; <c>/token</c> redeems a code once, for the client it was issued to, with the same redirect URI
/// and the PKCE verifier whose S256 hash is the challenge, and answers an ID token carrying the nonce. Tests make it
/// misbehave (deny, answer another state or nonce) to see Berth refuse.
/// </summary>
public sealed partial class OidcProvider
{
    private readonly ConcurrentDictionary<string, Grant> _grants = new(StringComparer.Ordinal);

    /// <summary>Who the next browser sign-in is (the provider's user).</summary>
    public OidcUser User { get; set; } = new("subject-ada", "Ada.Lovelace@example.com", "ada@example.com", "Ada Lovelace", []);

    /// <summary>The client secret <c>/token</c> demands (HTTP Basic), or null for a public client.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Answer the authorization request with this error (<c>access_denied</c>) instead of a code.</summary>
    public string? DenyWith { get; set; }

    /// <summary>Send the browser back with this state instead of the one Berth sent.</summary>
    public string? StateOverride { get; set; }

    /// <summary>Put this nonce into the ID token instead of the one Berth sent.</summary>
    public string? NonceOverride { get; set; }

    /// <summary>The query of the last authorization request.</summary>
    public IReadOnlyDictionary<string, string>? LastAuthorization { get; private set; }

    /// <summary>Why <c>/token</c> last refused a code (null: it did not).</summary>
    public string? LastTokenRefusal { get; private set; }

    /// <summary>How many codes <c>/token</c> redeemed.</summary>
    public int Redeemed => Volatile.Read(ref _redeemed);

    private int _redeemed;

    private IResult Authorize(HttpContext context)
    {
        var query = context.Request.Query.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        LastAuthorization = query;
        string Get(string key) => query.GetValueOrDefault(key) ?? "";
        var redirect = Get("redirect_uri");
        if (!Uri.TryCreate(redirect, UriKind.Absolute, out _) || Get("client_id") != Audience)
        {
            return Results.BadRequest("unknown client or redirect_uri");
        }

        var state = StateOverride ?? Get("state");
        string Back(Dictionary<string, string?> answer) => QueryHelpers.AddQueryString(redirect, answer);
        if (Get("response_type") != "code" || Get("code_challenge_method") != "S256" || Get("code_challenge").Length < 43 || Get("nonce").Length == 0
            || !Get("scope").Split(' ').Contains("openid"))
        {
            return Results.Redirect(Back(new() { ["error"] = "invalid_request", ["error_description"] = "code flow with S256 PKCE, nonce and openid required", ["state"] = state }));
        }

        if (DenyWith is { } error)
        {
            return Results.Redirect(Back(new() { ["error"] = error, ["error_description"] = "The user declined.", ["state"] = state }));
        }

        var code = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24));
        _grants[code] = new Grant(Get("client_id"), redirect, Get("code_challenge"), NonceOverride ?? Get("nonce"), User);
        return Results.Redirect(Back(new() { ["code"] = code, ["state"] = state }));
    }

    private async Task<IResult> RedeemAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        string Get(string key) => form[key].ToString();
        IResult Refuse(string error, string why)
        {
            LastTokenRefusal = why;
            return Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = why }, statusCode: 400);
        }

        var (clientId, secret) = (Get("client_id"), (string?)null);
        if (context.Request.Headers.Authorization.ToString() is { } header && header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..])).Split(':', 2);
            (clientId, secret) = (Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair[1]));
        }

        if (ClientSecret is not null && secret != ClientSecret)
        {
            return Refuse("invalid_client", "wrong client secret");
        }

        if (Get("grant_type") != "authorization_code" || !_grants.TryRemove(Get("code"), out var grant))
        {
            return Refuse("invalid_grant", "unknown or used code");
        }

        if (grant.ClientId != clientId || grant.RedirectUri != Get("redirect_uri"))
        {
            return Refuse("invalid_grant", "the code was issued to another client or redirect_uri");
        }

        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(Get("code_verifier"))));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(challenge), Encoding.ASCII.GetBytes(grant.Challenge)))
        {
            return Refuse("invalid_grant", "PKCE verification failed");
        }

        Interlocked.Increment(ref _redeemed);
        LastTokenRefusal = null;
        var user = grant.User;
        var idToken = Mint(user.Subject, user.UserName, user.Email, user.Name, user.Groups, audience: grant.ClientId, nonce: grant.Nonce);
        return Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["access_token"] = Mint(user.Subject, user.UserName),
            ["token_type"] = "Bearer",
            ["expires_in"] = 600,
            ["id_token"] = idToken,
        }), "application/json");
    }

    private sealed record Grant(string ClientId, string RedirectUri, string Challenge, string Nonce, OidcUser User);
}

/// <summary>A user of the stand-in provider.</summary>
public sealed record OidcUser(string Subject, string? UserName, string? Email, string? Name, IReadOnlyList<string> Groups);
