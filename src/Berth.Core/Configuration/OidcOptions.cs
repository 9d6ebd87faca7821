using System.ComponentModel.DataAnnotations;

namespace Berth.Core.Configuration;

/// <summary>
/// Sign-in with an OpenID Connect identity provider (section <c>Oidc</c>; environment variables
/// <c>BERTH_Oidc__…</c>). Off unless <see cref="Issuer"/> is set. Bearer JWTs from the issuer are
/// checked against its published keys and mapped to Berth users; their groups to teams.
/// </summary>
public sealed class OidcOptions : IValidatableObject
{
    public const string SectionName = "Oidc";

    /// <summary>The issuer (<c>iss</c>) whose tokens are accepted, e.g. <c>https://login.example.com/realms/acme</c>.</summary>
    public string? Issuer { get; set; }

    /// <summary>The audience (<c>aud</c>) tokens must be issued for: the client id Berth is registered under.</summary>
    public string? Audience { get; set; }

    /// <summary>The discovery document (default: <c>&lt;Issuer&gt;/.well-known/openid-configuration</c>).</summary>
    public string? MetadataAddress { get; set; }

    /// <summary>The key set (JWKS) itself, for issuers without a discovery document; overrides <see cref="MetadataAddress"/>.</summary>
    public string? JwksUrl { get; set; }

    /// <summary>Refuse to fetch metadata and keys over plain HTTP (turn off only for tests and local development).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>The claim a new user's name is made from; <c>sub</c> when the token lacks it.</summary>
    [Required]
    public string UserNameClaim { get; set; } = "preferred_username";

    [Required]
    public string EmailClaim { get; set; } = "email";

    [Required]
    public string DisplayNameClaim { get; set; } = "name";

    /// <summary>The claim listing the user's groups (matched against teams' external groups).</summary>
    [Required]
    public string GroupsClaim { get; set; } = "groups";

    /// <summary>Create a Berth user at the first sign-in of an unknown subject; when off, only pre-created users may sign in.</summary>
    public bool AutoCreateUsers { get; set; } = true;

    /// <summary>
    /// Members of these groups are server administrators. When set, the identity provider decides the
    /// flag of its users at every request (it is taken away from users no longer in such a group); when
    /// empty, Berth leaves the flag as administrators set it.
    /// </summary>
    public List<string> AdminGroups { get; set; } = [];

    /// <summary>Tolerated difference between the provider's clock and Berth's when checking expiry.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The least time between two key refreshes caused by a token signed with an unknown key.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Offer "Sign in with …" on the web UI's sign-in page (the authorization-code flow with PKCE).</summary>
    public bool WebSignIn { get; set; } = true;

    /// <summary>The client id of the browser sign-in (default: <see cref="Audience"/>); ID tokens must carry it in <c>aud</c>.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client secret for the token endpoint, for a confidential client (none: a public client, PKCE only).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The provider's name on the sign-in button (default: the issuer's host).</summary>
    public string? ProviderName { get; set; }

    /// <summary>The scopes asked for at sign-in (<c>openid</c> is always asked for).</summary>
    [Required]
    public string Scopes { get; set; } = "openid profile email";

    /// <summary>Where the provider sends the browser back (default: <c>/oidc/callback</c> on the address the browser used).</summary>
    public string? RedirectUri { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Issuer);

    /// <summary>The browser sign-in is offered: OIDC on and <see cref="WebSignIn"/>.</summary>
    public bool WebSignInEnabled => Enabled && WebSignIn;

    /// <summary>The client id of the browser sign-in.</summary>
    public string? EffectiveClientId => string.IsNullOrWhiteSpace(ClientId) ? Audience : ClientId;

    /// <summary>The name on the sign-in button.</summary>
    public string SignInName =>
        !string.IsNullOrWhiteSpace(ProviderName) ? ProviderName
        : Uri.TryCreate(Issuer, UriKind.Absolute, out var issuer) ? issuer.Host
        : "single sign-on";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }

        if (!IsHttpUri(Issuer))
        {
            yield return new ValidationResult($"Oidc:Issuer must be an absolute http(s) URL, not '{Issuer}'.", [nameof(Issuer)]);
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            yield return new ValidationResult("Oidc:Audience is required when Oidc:Issuer is set (the client id tokens are issued for).", [nameof(Audience)]);
        }

        foreach (var (name, value) in new[] { (nameof(MetadataAddress), MetadataAddress), (nameof(JwksUrl), JwksUrl), (nameof(RedirectUri), RedirectUri) })
        {
            if (value is not null && !IsHttpUri(value))
            {
                yield return new ValidationResult($"Oidc:{name} must be an absolute http(s) URL, not '{value}'.", [name]);
            }
        }

        var keysFrom = JwksUrl ?? MetadataAddress ?? Issuer;
        if (RequireHttpsMetadata && IsHttpUri(keysFrom) && !keysFrom!.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult($"Oidc: the provider's keys would be fetched over plain HTTP ({keysFrom}); use https, or set Oidc:RequireHttpsMetadata=false for local testing.", [nameof(RequireHttpsMetadata)]);
        }
    }

    private static bool IsHttpUri(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
