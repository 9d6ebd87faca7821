namespace Berth.Server.Oci;

/// <summary>
/// What a token from <c>/v2/token</c> lets its holder do: per repository it was asked for, the actions granted
/// (<c>pull</c>, <c>push</c>, <c>delete</c>). A repository asked for but not granted an action is refused with DENIED;
/// one never asked for gets a new challenge (the client fetches a token for it).
/// </summary>
internal sealed record OciGrants(IReadOnlyDictionary<string, IReadOnlySet<string>> Access)
{
    public const string Pull = "pull";
    public const string Push = "push";
    public const string Delete = "delete";

    public bool Covers(string repository) => Access.ContainsKey(repository);

    public bool Allows(string repository, string action) => Access.TryGetValue(repository, out var actions) && actions.Contains(action);
}

/// <summary>One <c>scope</c> of a token request: <c>repository:&lt;name&gt;:&lt;actions&gt;</c>.</summary>
internal sealed record OciScope(string Repository, IReadOnlySet<string> Actions)
{
    /// <summary>Parses every scope of the request (repeated <c>scope=</c> parameters, each may list several separated by spaces).</summary>
    public static List<OciScope> ParseAll(IEnumerable<string?> values)
    {
        var scopes = new List<OciScope>();
        foreach (var value in values)
        {
            foreach (var text in (value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var first = text.IndexOf(':', StringComparison.Ordinal);
                var last = text.LastIndexOf(':');
                if (first < 0 || last <= first || text[..first] != "repository")
                {
                    continue;
                }

                var actions = text[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries)
                    .SelectMany(a => a == "*" ? [OciGrants.Pull, OciGrants.Push, OciGrants.Delete] : new[] { a })
                    .Where(a => a is OciGrants.Pull or OciGrants.Push or OciGrants.Delete)
                    .ToHashSet(StringComparer.Ordinal);
                scopes.Add(new OciScope(text[(first + 1)..last], actions));
            }
        }

        return scopes;
    }
}
