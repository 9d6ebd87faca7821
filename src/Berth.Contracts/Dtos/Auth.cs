namespace Berth.Contracts.Dtos;

public sealed record UserInfo(long Id, string Name, string? Email, string? DisplayName, bool IsAdmin);

public sealed record TokenInfo(
    long Id,
    string Name,
    string Prefix,
    string User,
    IReadOnlyList<string> Scopes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt);

public sealed record WhoAmI(UserInfo User, TokenInfo? Token, bool Anonymous);

/// <summary>Creates an API token. <c>Scopes</c> are read, write and admin (default: the caller's own).</summary>
public sealed record CreateTokenRequest(string Name, IReadOnlyList<string>? Scopes = null, int? ExpiresInDays = null, DateTimeOffset? ExpiresAt = null);

/// <summary>The only time the secret is shown: store it, the server keeps only its hash.</summary>
public sealed record CreatedToken(TokenInfo Info, string Token);
