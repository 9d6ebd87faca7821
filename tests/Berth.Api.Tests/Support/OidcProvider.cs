using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Api.Tests.Support;

/// <summary>
/// A stand-in identity provider on 127.0.0.1: serves a discovery document and a JWKS of its RSA keys,
/// and mints tokens the way a real provider would (or with whatever flaw a test asks for). It also signs browsers in with
/// the authorization-code flow (OidcProvider.Authorization.cs).
/// </summary>
public sealed partial class OidcProvider : IAsyncDisposable
{
    public const string Audience = "berth";

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private List<RsaSecurityKey> _published = [];
    private int _keyRequests;

    private OidcProvider(WebApplication app, string issuer, RsaSecurityKey key)
    {
        _app = app;
        Issuer = issuer;
        SigningKey = key;
        _published = [key];
    }

    /// <summary>The issuer URL (no trailing slash), which is also where the discovery document lives.</summary>
    public string Issuer { get; }

    /// <summary>The key new tokens are signed with.</summary>
    public RsaSecurityKey SigningKey { get; private set; }

    public string JwksUrl => Issuer + "/jwks";

    /// <summary>How many times the key set was fetched.</summary>
    public int KeyRequests => Volatile.Read(ref _keyRequests);

    /// <summary>Command-line settings that point a Berth server at this provider.</summary>
    public string[] ServerArgs(params string[] extra) =>
        ["--oidc-issuer", Issuer, "--oidc-audience", Audience, "--Oidc:RequireHttpsMetadata", "false", .. extra];

    public static async Task<OidcProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        OidcProvider? provider = null;
        app.MapGet("/.well-known/openid-configuration", () => Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["issuer"] = provider!.Issuer,
            ["jwks_uri"] = provider.JwksUrl,
            ["authorization_endpoint"] = provider.Issuer + "/authorize",
            ["token_endpoint"] = provider.Issuer + "/token",
            ["code_challenge_methods_supported"] = new[] { "S256" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }), "application/json"));
        app.MapGet("/jwks", () => Results.Text(provider!.Jwks(), "application/json"));
        app.MapGet("/authorize", (HttpContext context) => provider!.Authorize(context));
        app.MapPost("/token", (HttpRequest request) => provider!.RedeemAsync(request.HttpContext));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        provider = new OidcProvider(app, address, NewKey());
        return provider;
    }

    public static RsaSecurityKey NewKey() => new(RSA.Create(2048)) { KeyId = Guid.NewGuid().ToString("N") };

    /// <summary>Publishes a new key next to the old ones and signs new tokens with it (a provider's key rollover).</summary>
    public RsaSecurityKey RotateKey()
    {
        var key = NewKey();
        lock (_lock)
        {
            _published = [.. _published, key];
            SigningKey = key;
        }

        return key;
    }

    /// <summary>A signed access token for <paramref name="subject"/>; every part can be overridden to make it bad.</summary>
    public string Mint(
        string subject,
        string? userName = null,
        string? email = null,
        string? name = null,
        IEnumerable<string>? groups = null,
        SecurityKey? key = null,
        string? issuer = null,
        string? audience = null,
        DateTime? expires = null,
        DateTime? issuedAt = null,
        string? nonce = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject };
        if (nonce is not null) claims["nonce"] = nonce;
        if (userName is not null) claims["preferred_username"] = userName;
        if (email is not null) claims["email"] = email;
        if (name is not null) claims["name"] = name;
        if (groups is not null) claims["groups"] = groups.ToArray();

        var issued = issuedAt ?? DateTime.UtcNow;
        var expiry = expires ?? issued.AddMinutes(10);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience ?? Audience,
            Claims = claims,
            IssuedAt = issued,
            NotBefore = expiry < issued ? expiry.AddMinutes(-5) : issued,
            Expires = expiry,
            SigningCredentials = new SigningCredentials(key ?? SigningKey, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private string Jwks()
    {
        Interlocked.Increment(ref _keyRequests);
        List<RsaSecurityKey> keys;
        lock (_lock)
        {
            keys = _published;
        }

        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["keys"] = keys.Select(k =>
            {
                var parameters = k.Rsa.ExportParameters(includePrivateParameters: false);
                return new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["alg"] = "RS256",
                    ["kid"] = k.KeyId,
                    ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                    ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
                };
            }).ToList(),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var key in _published)
        {
            key.Rsa.Dispose();
        }
    }
}
