using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;

namespace Berth.Web.Hosting;

/// <summary>
/// A one-time message after a POST-redirect-GET ("Saved the model card."): set before the redirect, shown once by the
/// layout of the next page, in a short-lived, HttpOnly, data-protected cookie (so no one can plant a message).
/// </summary>
public sealed class Flash(IHttpContextAccessor http, IDataProtectionProvider protection)
{
    public const string CookieName = "berth_flash";

    private readonly IDataProtector _protector = protection.CreateProtector("Berth.Web.Flash.v1");
    private (string Kind, string Text)? _taken;
    private bool _read;

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
