using Berth.Client;
using Berth.Contracts.Naming;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// One command's view of the world: its output, the saved config, the environment overrides
/// (<c>BERTH_URL</c>, <c>BERTH_TOKEN</c>, <c>BERTH_NAMESPACE</c> win over the config file), the SDK
/// client, and the one way references are read (<see cref="ModelReference.TryParse"/>).
/// </summary>
internal sealed class CliContext(Output output) : IDisposable
{
    public const string UrlVariable = "BERTH_URL";
    public const string TokenVariable = "BERTH_TOKEN";
    public const string NamespaceVariable = "BERTH_NAMESPACE";

    private CliConfig? _saved;
    private BerthClient? _client;

    public Output Output { get; } = output;

    public ConfigStore Config { get; } = new(CliPaths.ConfigFile);

    public CliConfig Saved => _saved ??= Config.Load();

    /// <summary>The server commands talk to; null when neither logged in nor BERTH_URL is set.</summary>
    public string? Server => CliPaths.Variable(UrlVariable) ?? Saved.Server;

    /// <summary>
    /// BERTH_TOKEN, else the saved token, but only for the saved server: a BERTH_URL pointing elsewhere
    /// does not receive the token saved for another server. Servers are compared by their normalised
    /// address (<see cref="SameServer"/>), so <c>http://localhost:8282</c> uses a login saved for
    /// <c>http://127.0.0.1:8282/</c>.
    /// </summary>
    public string? Token =>
        CliPaths.Variable(TokenVariable) ??
        (CliPaths.Variable(UrlVariable) is { } url && !SameServer(url, Saved.Server) ? null : Saved.Token);

    /// <summary>When no token is sent: why (which server has a saved login, which one was asked for) and how to fix it; null when one is sent.</summary>
    public (string Reason, string Fix)? MissingToken()
    {
        if (Token is not null)
        {
            return null;
        }

        var server = Server ?? "<server url>";
        var fix = $"log in to it with 'berth login {server} --user <name>' (or --token <token>), or set {TokenVariable}.";
        return Saved switch
        {
            { Token: not null, Server: { } saved } => ($"No token was sent to {server}: the saved login is for {saved}, a different server ({UrlVariable}={CliPaths.Variable(UrlVariable)}).", fix),
            _ when Saved.Server is { } saved && SameServer(server, saved) => ($"No token was sent to {server}: you are logged out of it (no token is saved).", fix),
            _ => ($"No token was sent to {server}: there is no saved login (run 'berth login') and {TokenVariable} is not set.", fix),
        };
    }

    public string? DefaultNamespace
    {
        get
        {
            if (CliPaths.Variable(NamespaceVariable) is { } ns)
            {
                return Names.CheckNamespace(ns) is { } problem ? throw new CliException($"{NamespaceVariable}: {problem}") : ns;
            }

            return Saved.Namespace;
        }
    }

    public BerthClient Client => _client ??= CreateClient(
        Server ?? throw new CliException($"Not logged in: run 'berth login <server url> --user <name>' (or --token <token>), or set {UrlVariable} and {TokenVariable}."),
        Token);

    public static BerthClient CreateClient(string server, string? token) => new(new BerthClientOptions
    {
        BaseUri = ParseServer(server, UrlVariable),
        Token = token,
        UserAgent = "berth-cli/" + typeof(CliContext).Assembly.GetName().Version?.ToString(3),
    });

    /// <summary>An http(s) server address; <paramref name="source"/> names where it came from in the error.</summary>
    public static Uri ParseServer(string text, string source)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new UsageException($"{source}: '{text}' is not a server address; use http(s)://host[:port][/path], e.g. http://127.0.0.1:8282.");
        }

        return uri;
    }

    /// <summary>A model or version reference, with the default namespace filled in.</summary>
    public ModelReference Reference(string text)
    {
        if (!ModelReference.TryParse(text, out var reference, out var error))
        {
            throw new UsageException(error);
        }

        reference = reference.WithDefaultNamespace(DefaultNamespace);
        if (reference.Namespace is null)
        {
            throw new UsageException(
                $"'{text}' has no namespace and no default namespace is set: write namespace/{reference.Model}, " +
                $"or set one with 'berth login <url> --token <token> --namespace <namespace>' (or {NamespaceVariable}).");
        }

        return reference;
    }

    /// <summary>A reference that must name a model, not a version (<c>acme/fraud</c>).</summary>
    public ModelReference ModelOnly(string text, string command)
    {
        var reference = Reference(text);
        if (reference.HasSelector)
        {
            throw new UsageException($"'{text}': 'berth {command}' takes a model (namespace/model), not a version; drop '{reference.Selector.ToReferenceSuffix()}'.");
        }

        return reference;
    }

    /// <summary>The namespace of a reference that passed <see cref="Reference"/>.</summary>
    public static string NamespaceOf(ModelReference reference) =>
        reference.Namespace ?? throw new InvalidOperationException("The reference has no namespace.");

    public static string Namespace(string text) =>
        Names.CheckNamespace(text) is { } problem ? throw new UsageException(problem) : text;

    public void Dispose() => _client?.Dispose();

    /// <summary>
    /// Whether two server addresses name the same server: compared by scheme, host (lower case; localhost,
    /// 127.0.0.1 and [::1] are one host), port (the scheme's default when left out) and path (without a
    /// trailing '/').
    /// </summary>
    public static bool SameServer(string a, string? b) =>
        b is not null && Normalise(a) is { } x && Normalise(b) is { } y && string.Equals(x, y, StringComparison.Ordinal);

    /// <summary>The address in the form <see cref="SameServer"/> compares; null when it is not an http(s) address.</summary>
    public static string? Normalise(string address)
    {
        if (!Uri.TryCreate(address.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return null;
        }

        var host = uri.IdnHost.ToLowerInvariant();
        host = host is "localhost" or "127.0.0.1" or "[::1]" or "::1" ? "localhost" : host;
        var path = uri.AbsolutePath.TrimEnd('/');
        return $"{uri.Scheme}://{host}:{uri.Port}{path}";
    }
}
