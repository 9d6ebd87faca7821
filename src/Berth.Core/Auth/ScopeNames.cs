using Berth.Contracts.Errors;
using Berth.Core.Errors;

namespace Berth.Core.Auth;

/// <summary>Converts scopes to and from their wire names (read, write, admin).</summary>
public static class ScopeNames
{
    public static TokenScopes Parse(IEnumerable<string> names)
    {
        var scopes = TokenScopes.None;
        foreach (var name in names)
        {
            scopes |= name.Trim() switch
            {
                "read" => TokenScopes.Read,
                "write" => TokenScopes.Read | TokenScopes.Write,
                "admin" => TokenScopes.All,
                var other => throw new RegistryException(ErrorCodes.InvalidRequest, $"Unknown token scope '{other}': use read, write or admin."),
            };
        }

        return scopes;
    }

    public static TokenScopes ParseStored(string stored) =>
        stored.Length == 0 ? TokenScopes.None : Parse(stored.Split(',', StringSplitOptions.RemoveEmptyEntries));

    public static IReadOnlyList<string> Format(TokenScopes scopes)
    {
        var names = new List<string>(3);
        if (scopes.HasFlag(TokenScopes.Read)) names.Add("read");
        if (scopes.HasFlag(TokenScopes.Write)) names.Add("write");
        if (scopes.HasFlag(TokenScopes.Admin)) names.Add("admin");
        return names;
    }
}
