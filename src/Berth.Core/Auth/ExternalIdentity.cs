namespace Berth.Core.Auth;

/// <summary>What a verified token of the identity provider says about its bearer.</summary>
/// <param name="Issuer">The token's <c>iss</c>.</param>
/// <param name="Subject">The token's <c>sub</c>: the provider's stable id of the user.</param>
/// <param name="UserName">The claim a new user's name is made from (null: the subject is used).</param>
/// <param name="Groups">The groups the provider puts the user in.</param>
/// <param name="IssuedAt">When the provider issued the token (a new token means a new sign-in).</param>
public sealed record ExternalIdentity(
    string Issuer,
    string Subject,
    string? UserName,
    string? Email,
    string? DisplayName,
    IReadOnlyCollection<string> Groups,
    DateTimeOffset? IssuedAt);
