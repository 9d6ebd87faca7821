namespace Berth.Contracts.Dtos;

public sealed record UserInfo(long Id, string Name, string? Email, string? DisplayName, bool IsAdmin);

/// <summary>An API token. <c>WebSession</c>: the token behind a browser sign-in (its secret lives only in the session cookie; signing out revokes it).</summary>
public sealed record TokenInfo(
    long Id,
    string Name,
    string Prefix,
    string User,
    IReadOnlyList<string> Scopes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    bool WebSession = false);

public sealed record WhoAmI(UserInfo User, TokenInfo? Token, bool Anonymous);

/// <summary>
/// Creates an API token. <c>Scopes</c> are read, write and admin (default: the caller's own). A server
/// administrator may create a token for another <c>User</c>.
/// </summary>
public sealed record CreateTokenRequest(string Name, IReadOnlyList<string>? Scopes = null, int? ExpiresInDays = null, DateTimeOffset? ExpiresAt = null, string? User = null);

/// <summary>The only time the secret is shown: store it, the server keeps only its hash.</summary>
public sealed record CreatedToken(TokenInfo Info, string Token);

/// <summary>A user as server administrators see it.</summary>
public sealed record UserDetails(
    long Id,
    string Name,
    string? Email,
    string? DisplayName,
    bool IsAdmin,
    bool Disabled,
    bool HasPassword,
    bool MustChangePassword,
    string? ExternalIssuer,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSignInAt,
    IReadOnlyList<string> Teams,
    long Revision);

public sealed record CreateUserRequest(string Name, string? Email = null, string? DisplayName = null, bool IsAdmin = false);

/// <summary>A new user (or a reset password): the one-time password is shown only here and must be changed at the first sign-in.</summary>
public sealed record CreatedUser(UserDetails User, string OneTimePassword);

/// <summary>Changes a user; fields left null stay as they are.</summary>
public sealed record UpdateUserRequest(string? Email = null, string? DisplayName = null, bool? IsAdmin = null, bool? Disabled = null);

/// <summary>Password sign-in. Answers with a new API token (a session) named <c>TokenName</c>.</summary>
public sealed record SignInRequest(string User, string Password, string? NewPassword = null, string? TokenName = null, int? ExpiresInDays = null);

public sealed record SignInResponse(UserInfo User, CreatedToken Session);

public sealed record ChangePasswordRequest(string CurrentPassword, string NewPassword);

public sealed record TeamInfo(string Name, string? Description, string? ExternalGroup, IReadOnlyList<string> Members, DateTimeOffset CreatedAt);

public sealed record CreateTeamRequest(string Name, string? Description = null, string? ExternalGroup = null);
