using System.ComponentModel.DataAnnotations;

namespace Berth.Web.Hosting;

/// <summary>The web UI's sign-in sessions (section <c>Web</c>; environment variables <c>BERTH_Web__…</c>).</summary>
public sealed class WebOptions
{
    public const string SectionName = "Web";

    /// <summary>A web session not used for this long ends (sliding: every use, recorded once a minute, extends it).</summary>
    [Range(typeof(TimeSpan), "00:05:00", "90.00:00:00")]
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A web session ends this long after the sign-in, however often it is used (its token's expiry).</summary>
    [Range(typeof(TimeSpan), "00:05:00", "365.00:00:00")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(30);
}
