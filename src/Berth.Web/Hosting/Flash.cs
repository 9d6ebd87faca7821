using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;

namespace Berth.Web.Hosting;

/// <summary>
/// A one-time message after a POST-redirect-GET ("Saved the model card."): set before the redirect, shown once by the
/// layout of the next page, in a short-lived, HttpOnly, data-protected cookie (so no one can plant a message).
/// A secret made by a form (a token, a one-time password, a webhook's signing secret) travels the same way, in a
/// cookie of its own (<see cref="Reveal"/>): encrypted with the server's data-protection keys (the browser keeps only
/// ciphertext it cannot read), bound to the signed-in session that made it, valid for two minutes and deleted by the
/// page that shows it. So the secret is shown once, and reloading that page neither shows it again nor posts the
/// form a second time (which would make a second token or webhook).
/// </summary>
public sealed class Flash(IHttpContextAccessor http, IDataProtectionProvider protection)
{
    public const string CookieName = "berth_flash";

    public const string RevealCookieName = "berth_reveal";

    private static readonly TimeSpan RevealLifetime = TimeSpan.FromMinutes(2);

    private readonly IDataProtector _protector = protection.CreateProtector("Berth.Web.Flash.v1");
    private readonly ITimeLimitedDataProtector _revealProtector = protection.CreateProtector("Berth.Web.Reveal.v1").ToTimeLimitedDataProtector();
    private (string Kind, string Text)? _taken;
    private bool _read;

    /// <summary>
    /// Keeps <paramref name="secret"/> for the next page of the session <paramref name="session"/> (the viewer's token
    /// id), under <paramref name="kind"/> (what made it, e.g. "token") and <paramref name="subject"/> (its name).
    /// </summary>
    public void Reveal(long? session, string kind, string subject, string secret)
    {
        if (http.HttpContext is { Response.HasStarted: false } context)
        {
            var payload = JsonSerializer.Serialize(new RevealedSecret(kind, subject, secret, session));
            context.Response.Cookies.Append(RevealCookieName, _revealProtector.Protect(payload, RevealLifetime), RevealCookie(context, RevealLifetime));
        }
    }

    /// <summary>
    /// The secret kept for this page by <see cref="Reveal"/>, once: only when it is of <paramref name="kind"/> and was made
    /// by the same session; the cookie is deleted whatever it held.
    /// </summary>
    public RevealedSecret? TakeReveal(long? session, string kind)
    {
        if (http.HttpContext is not { } context || !context.Request.Cookies.TryGetValue(RevealCookieName, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (!context.Response.HasStarted)
        {
            context.Response.Cookies.Delete(RevealCookieName, RevealCookie(context, null));
        }

        try
        {
            var revealed = JsonSerializer.Deserialize<RevealedSecret>(_revealProtector.Unprotect(value));
            return revealed is not null && revealed.Kind == kind && revealed.Session == session ? revealed : null;
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or JsonException)
        {
            return null;
        }
    }

    private static CookieOptions RevealCookie(HttpContext context, TimeSpan? maxAge) =>
        new() { Path = "/", HttpOnly = true, Secure = context.Request.IsHttps, SameSite = SameSiteMode.Strict, MaxAge = maxAge, IsEssential = true };

    public void Success(string text) => Set("success", text);

    public void Error(string text) => Set("error", text);

    /// <summary>The message for this page, read once (the cookie is removed).</summary>
    public (string Kind, string Text)? Take()
    {
        if (_read || http.HttpContext is not { } context)
        {
            return _taken;
        }

        _read = true;
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (!context.Response.HasStarted)
        {
            context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/", HttpOnly = true, Secure = context.Request.IsHttps, SameSite = SameSiteMode.Lax });
        }

        try
        {
            var text = _protector.Unprotect(value);
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            _taken = bar < 0 ? null : (text[..bar], text[(bar + 1)..]);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            _taken = null;
        }

        return _taken;
    }

    private void Set(string kind, string text)
    {
        if (http.HttpContext is { Response.HasStarted: false } context)
        {
            context.Response.Cookies.Append(CookieName, _protector.Protect(kind + "|" + text), new CookieOptions
            {
                Path = "/",
                HttpOnly = true,
                Secure = context.Request.IsHttps,
                SameSite = SameSiteMode.Lax,
                MaxAge = TimeSpan.FromMinutes(5),
            });
        }
    }
}

/// <summary>A secret kept for one page: what made it, its name, the secret, and the session that may see it.</summary>
public sealed record RevealedSecret(string Kind, string Subject, string Secret, long? Session);
