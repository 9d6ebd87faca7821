using System.Text.Json;
using Berth.Core.Auth;
using Microsoft.AspNetCore.DataProtection;

namespace Berth.Server.Oci;

/// <summary>
/// The short-lived bearer tokens of <c>/v2/token</c>: the caller and the access it was granted, encrypted and signed with
/// the data-protection keys every replica shares (so any replica accepts a token another issued), with an expiry. A
/// request with one needs no database lookup to be authorised; a revoked API token stops working within a token's
/// lifetime.
/// </summary>
internal sealed class OciTokens(IDataProtectionProvider protection, TimeProvider clock)
{
    public const string Prefix = "berth-oci.";

    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("Berth.Oci.Token.v1").ToTimeLimitedDataProtector();

    public string Issue(Actor actor, OciGrants grants, TimeSpan lifetime)
    {
        var payload = new Payload(actor.UserId, actor.Name, actor.IsAdmin, actor.TokenId, (int)actor.Scopes,
            grants.Access.ToDictionary(a => a.Key, a => a.Value.Order(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal));
        var bytes = JsonSerializer.SerializeToUtf8Bytes(payload, OciJsonContext.Default.Payload);
        return Prefix + Base64Url(_protector.Protect(bytes, clock.GetUtcNow() + lifetime));
    }

    public static bool Looks(string token) => token.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The caller and grants, or null when the token is forged, damaged or expired.</summary>
    public (Actor Actor, OciGrants Grants)? Read(string token)
    {
        try
        {
            var bytes = _protector.Unprotect(FromBase64Url(token[Prefix.Length..]), out var expiration);
            if (expiration <= clock.GetUtcNow())
            {
                return null;
            }

            var payload = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.Payload);
            if (payload is null)
            {
                return null;
            }

            var actor = payload.UserId == 0 ? Actor.Anonymous : new Actor(payload.UserId, payload.Name, payload.Admin, payload.TokenId, (TokenScopes)payload.Scopes);
            var access = payload.Access.ToDictionary(a => a.Key, a => (IReadOnlySet<string>)a.Value.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
            return (actor, new OciGrants(access));
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or FormatException or JsonException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", _ => "" };
        return Convert.FromBase64String(padded);
    }

    internal sealed record Payload(long UserId, string Name, bool Admin, long? TokenId, int Scopes, Dictionary<string, string[]> Access);
}
