namespace Berth.Web.Components.UI;

/// <summary>
/// The UI's URLs, in one place (GitHub-style and guessable: /{ns}, /{ns}/{model}, …). Pages link through here so that a
/// new page changes one line: <see cref="Version"/> points into the model page until the version page exists.
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

    /// <summary>A version: for now its row in the model's versions table.</summary>
    public static string Version(string ns, string model, int number) => Model(ns, model) + "#v" + number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Version(string fullName, int number)
    {
        var slash = fullName.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? Namespace(fullName) : Version(fullName[..slash], fullName[(slash + 1)..], number);
    }

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
