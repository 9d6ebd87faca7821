using System.Globalization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Berth.Web.Hosting;

/// <summary>
/// The browser's sign-in: a cookie holding the secret of the user's web-session token, encrypted and signed with the
/// data-protection keys (which live in the database, so any replica reads any cookie). HttpOnly, SameSite=Lax, Secure
/// when the request came over HTTPS, and persistent for the idle timeout; re-issued (with a fresh expiry) at most
/// every few minutes while it is used. The server keeps no session state: the token row is the session.
/// </summary>
public sealed class SessionCookie(IDataProtectionProvider protection, IOptions<WebOptions> options, TimeProvider clock)
{
    public const string Name = "berth_session";

    private static readonly TimeSpan RefreshEvery = TimeSpan.FromMinutes(5);

    private readonly IDataProtector _protector = protection.CreateProtector("Berth.Web.SessionCookie.v1");

    /// <summary>Sets the cookie for a new session.</summary>
    public void Issue(HttpContext context, string secret) =>
        context.Response.Cookies.Append(Name, _protector.Protect(Payload(secret)), Options(context));

    /// <summary>The session secret in the request's cookie, or null (none, or not one this server's keys made).</summary>
    public string? Read(HttpContext context, out DateTimeOffset issuedAt)
    {
        issuedAt = default;
        if (!context.Request.Cookies.TryGetValue(Name, out var value) || string.IsNullOrEmpty(value) || value.Length > 4096)
        {
            return null;
        }

        string payload;
        try
        {
            payload = _protector.Unprotect(value);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }

        var bar = payload.IndexOf('|', StringComparison.Ordinal);
        if (bar < 0 || !long.TryParse(payload.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return null;
        }

        issuedAt = new DateTimeOffset(ticks, TimeSpan.Zero);
        return payload[(bar + 1)..];
    }

    /// <summary>Re-issues the cookie when it was issued a while ago, so its expiry slides with use.</summary>
    public void RefreshIfDue(HttpContext context, string secret, DateTimeOffset issuedAt)
    {
        if (clock.GetUtcNow() - issuedAt >= RefreshEvery && !context.Response.HasStarted)
        {
            Issue(context, secret);
        }
    }

    /// <summary>Removes the cookie (sign-out, or a session that ended).</summary>
    public void Clear(HttpContext context)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.Cookies.Delete(Name, Options(context));
        }
    }

    private string Payload(string secret) => clock.GetUtcNow().UtcTicks.ToString(CultureInfo.InvariantCulture) + "|" + secret;

    private CookieOptions Options(HttpContext context) => new()
    {
        HttpOnly = true,
        Secure = context.Request.IsHttps,
        SameSite = SameSiteMode.Lax,
        Path = "/",
        IsEssential = true,
        Expires = clock.GetUtcNow() + options.Value.SessionIdleTimeout,
    };
}
