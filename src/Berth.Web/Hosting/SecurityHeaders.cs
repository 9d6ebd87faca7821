using Microsoft.AspNetCore.Http;

namespace Berth.Web.Hosting;

/// <summary>The headers every page carries (docs/ui.md, "Security headers").</summary>
public static class SecurityHeaders
{
    /// <summary>Only Berth's own files: no inline script or style, no plugins, no framing, forms post only to Berth.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    public static void Apply(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
        // Pages show what the viewer may see and carry anti-forgery tokens: never stored by browsers or proxies.
        // (The values anti-forgery sets itself, so it has nothing to override.)
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";
    }
}
