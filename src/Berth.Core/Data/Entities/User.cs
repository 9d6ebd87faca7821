namespace Berth.Core.Data.Entities;

public sealed class User
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string? Email { get; set; }
    public string? DisplayName { get; set; }
    public bool IsAdmin { get; set; }
    public bool Disabled { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>Argon2id hash for password sign-in (null: the user signs in only with tokens or OIDC).</summary>
    public string? PasswordHash { get; set; }

    /// <summary>Set for one-time passwords: the first sign-in must choose a new password.</summary>
    public bool MustChangePassword { get; set; }

    /// <summary>The OIDC issuer and subject this user was provisioned from, if any.</summary>
    public string? ExternalIssuer { get; set; }

    public string? ExternalSubject { get; set; }

    public DateTime? LastSignInAt { get; set; }

    /// <summary>Bumped on every change; the ETag.</summary>
    public long Revision { get; set; }
}
