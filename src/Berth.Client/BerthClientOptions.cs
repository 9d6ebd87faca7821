namespace Berth.Client;

public sealed class BerthClientOptions
{
    /// <summary>The server, e.g. http://127.0.0.1:8282.</summary>
    public required Uri BaseUri { get; init; }

    /// <summary>An API token (berth_…); null for anonymous access.</summary>
    public string? Token { get; init; }

    /// <summary>Timeout of metadata calls; transfers have none (they are cancelled through their token).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>Sent as User-Agent.</summary>
    public string UserAgent { get; init; } = "berth-client/" + typeof(BerthClientOptions).Assembly.GetName().Version?.ToString(3);
}
