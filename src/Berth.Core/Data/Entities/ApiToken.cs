namespace Berth.Core.Data.Entities;

/// <summary>
/// An API token. Only the SHA-256 of the secret is stored; <see cref="Prefix"/> lets people recognise it.
/// Tokens form chains: a token made with another token (<see cref="ParentId"/>) never outlives it, never has
/// more scopes, and is revoked with it. Tokens from a password sign-in, an OIDC identity or the first start are roots.
/// </summary>
public sealed class ApiToken
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public User User { get; set; } = null!;

    /// <summary>The token that created this one (null: a root).</summary>
    public long? ParentId { get; set; }

    public ApiToken? Parent { get; set; }
    public required string Name { get; set; }
    public required string Prefix { get; set; }
    public required string Hash { get; set; }

    /// <summary>Comma-separated scopes: read, write, admin.</summary>
    public required string Scopes { get; set; }

    /// <summary>The token behind a web UI sign-in: its secret is only in the browser's session cookie, and it expires after idle time.</summary>
    public bool WebSession { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
}
