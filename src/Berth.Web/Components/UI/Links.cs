using System.Globalization;

namespace Berth.Web.Components.UI;

/// <summary>
/// The UI's URLs, in one place (GitHub-style and guessable: /{ns}, /{ns}/{model}, /{ns}/{model}/versions/{selector}, /compare,
/// /requests). Pages link through here, so a URL changes in one place.
/// </summary>
public static class Links
{
    public static string Namespace(string ns) => "/" + Uri.EscapeDataString(ns);

    public static string Model(string ns, string model) => "/" + Uri.EscapeDataString(ns) + "/" + Uri.EscapeDataString(model);

    /// <summary><c>ns/model</c> (an event's model field) → its page.</summary>
    public static string Model(string fullName)
    {
        var slash = fullName.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? Namespace(fullName) : Model(fullName[..slash], fullName[(slash + 1)..]);
    }

    /// <summary>A version's page, by any selector (number, semantic version, alias, stage, latest).</summary>
    public static string Version(string ns, string model, string selector) => Model(ns, model) + "/versions/" + Uri.EscapeDataString(selector);

    public static string Version(string ns, string model, int number) => Version(ns, model, number.ToString(CultureInfo.InvariantCulture));

    public static string Version(string fullName, int number)
    {
        var slash = fullName.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? Namespace(fullName) : Version(fullName[..slash], fullName[(slash + 1)..], number);
    }

    /// <summary>A model's runs (its Runs tab).</summary>
    public static string Runs(string ns, string model) => Model(ns, model) + "/runs";

    /// <summary>A run's page, by its id.</summary>
    public static string Run(string ns, string model, string id) => Runs(ns, model) + "/" + Uri.EscapeDataString(id);

    /// <summary>A run's image as its page draws it (<c>RunFileImages</c>: raster images inline, anything else redirected to the download).</summary>
    public static string RunFile(string ns, string model, string id, string path) => Run(ns, model, id) + "/files/" + EscapePath(path);

    /// <summary>The API's download of one file of a run (the session cookie authenticates it; it answers an attachment).</summary>
    public static string RunFileDownload(string ns, string model, string id, string path) =>
        "/api/v1/models/" + Uri.EscapeDataString(ns) + "/" + Uri.EscapeDataString(model) + "/runs/" + Uri.EscapeDataString(id) + "/files/" + EscapePath(path);

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    /// <summary>The comparison of runs of one model, given by id.</summary>
    public static string RunCompare(string ns, string model, IEnumerable<string> ids) =>
        WithQuery(Runs(ns, model) + "/compare", ids.Select(id => new KeyValuePair<string, string?>("run", id)));

    /// <summary><c>path?key=value&amp;…</c> with keys and values escaped; pairs with an empty value are left out.</summary>
    public static string WithQuery(string path, IEnumerable<KeyValuePair<string, string?>> query)
    {
        var pairs = query.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        return pairs.Count == 0 ? path : path + "?" + string.Join('&', pairs);
    }

    /// <summary>The API's download of one file of a version (the session cookie authenticates it; it answers an attachment).</summary>
    public static string Download(string ns, string model, int number, string path) =>
        "/api/v1/models/" + Uri.EscapeDataString(ns) + "/" + Uri.EscapeDataString(model) + "/versions/" + number.ToString(CultureInfo.InvariantCulture)
        + "/files/" + string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    /// <summary>The comparison of versions given as references (<c>ns/model:number</c>).</summary>
    public static string Compare(IEnumerable<string> references, IEnumerable<KeyValuePair<string, string>>? extra = null)
    {
        var query = references.Select(r => "v=" + Uri.EscapeDataString(r))
            .Concat((extra ?? []).Where(p => p.Value.Length > 0).Select(p => p.Key + "=" + Uri.EscapeDataString(p.Value)))
            .ToList();
        return "/compare" + (query.Count == 0 ? "" : "?" + string.Join('&', query));
    }

    /// <summary>The requests inbox.</summary>
    public const string Requests = "/requests";

    /// <summary>Settings: your profile and password (<c>/settings</c>), tokens, namespaces you administer, users and teams.</summary>
    public const string Settings = "/settings";
    public const string SettingsTokens = "/settings/tokens";
    public const string SettingsNamespaces = "/settings/namespaces";
    public const string SettingsUsers = "/settings/users";
    public const string SettingsTeams = "/settings/teams";

    public static string SettingsNamespace(string ns) => SettingsNamespaces + "/" + Uri.EscapeDataString(ns);

    public static string SettingsModel(string ns, string model) => SettingsNamespace(ns) + "/models/" + Uri.EscapeDataString(model);

    public static string SettingsWebhook(string ns, long id) => SettingsNamespace(ns) + "/webhooks/" + id.ToString(CultureInfo.InvariantCulture);

    public static string SettingsUser(string user) => SettingsUsers + "/" + Uri.EscapeDataString(user);

    public static string SettingsTeam(string team) => SettingsTeams + "/" + Uri.EscapeDataString(team);
    /// <summary>The audit log (server administrators).</summary>
    public const string Audit = "/audit";

    /// <summary>The dashboard, searching for something.</summary>
    public static string Search(string? text = null, string? ns = null, string? stage = null, string? tag = null, string? sort = null)
    {
        var query = new List<string>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                query.Add(key + "=" + Uri.EscapeDataString(value));
            }
        }

        Add("q", text);
        Add("ns", ns);
        Add("stage", stage);
        Add("tag", tag);
        Add("sort", sort);
        return query.Count == 0 ? "/" : "/?" + string.Join('&', query);
    }
}
