namespace Berth.Server.Hosting;

/// <summary>
/// Configuration keys of the server, with their command-line switches and environment variables.
/// Every key can also be set in <c>&lt;data&gt;/berth.json</c> or as <c>BERTH_&lt;Key&gt;</c>
/// (with <c>__</c> between sections, e.g. <c>BERTH_Registry__AnonymousRead=true</c>).
/// </summary>
public static class ServerSettings
{
    public const string DataKey = "Data";

    /// <summary>The metadata database: an Npgsql connection string selects PostgreSQL; unset, SQLite in the data folder.</summary>
    public const string DbKey = "Db";

    /// <summary>The blob store: <c>s3://bucket/prefix?…</c> selects S3, an absolute path a folder; unset, the data folder.</summary>
    public const string BlobsKey = "Blobs";
    public const string UrlsKey = "Urls";
    public const string DefaultUrls = "http://127.0.0.1:8282";
    public const string DefaultData = "berth-data";
    public const string EnvironmentPrefix = "BERTH_";
    public const string AdminTokenFile = "admin-token";

    /// <summary>The administrator's one-time password for the web UI, written on first start (mode 0600).</summary>
    public const string AdminPasswordFile = "admin-password";

    /// <summary>Command-line switches of <c>berth serve</c> and the configuration keys they set.</summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--data"] = DataKey,
        ["--db"] = DbKey,
        ["--blobs"] = BlobsKey,
        ["--urls"] = UrlsKey,
        ["--admin-token-file"] = BootstrapOptions.SectionName + ":" + nameof(BootstrapOptions.AdminTokenFile),
        ["--anonymous-read"] = "Registry:AnonymousRead",
        ["--no-fsync"] = "Storage:NoFsync",
        ["--oidc-issuer"] = "Oidc:Issuer",
        ["--oidc-audience"] = "Oidc:Audience",
    };
}
