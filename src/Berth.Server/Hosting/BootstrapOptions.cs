namespace Berth.Server.Hosting;

/// <summary>
/// The first start on an empty database: the administrator's token can be the operator's (so that replicas and
/// orchestrators need no data folder) instead of a random one written to <c>&lt;data&gt;/admin-token</c>.
/// </summary>
public sealed class BootstrapOptions
{
    public const string SectionName = "Bootstrap";

    /// <summary>The token itself (<c>berth_</c> and 48 characters of a-z, 2-7); <c>BERTH_Bootstrap__AdminToken</c>.</summary>
    public string? AdminToken { get; set; }

    /// <summary>A file holding the token, e.g. a mounted secret; <c>--admin-token-file</c>. Wins over <see cref="AdminToken"/>.</summary>
    public string? AdminTokenFile { get; set; }
}
