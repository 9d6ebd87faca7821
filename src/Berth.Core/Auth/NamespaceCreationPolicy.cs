using Berth.Contracts.Errors;
using Berth.Core.Configuration;
using Berth.Core.Errors;

namespace Berth.Core.Auth;

/// <summary>
/// Who may create a namespace (explicitly, or by pushing into one that does not exist), by the server's
/// <c>Registry:NamespaceCreation</c> setting. Server administrators (and the system) always may; otherwise
/// <see cref="NamespaceCreation.Personal"/> allows a user only the namespace named exactly as their user name,
/// <see cref="NamespaceCreation.Admins"/> nobody else, and <see cref="NamespaceCreation.Users"/> anyone.
/// </summary>
public static class NamespaceCreationPolicy
{
    /// <summary>The refusal (403 <c>namespace_creation_forbidden</c>) when <paramref name="actor"/> may not create <paramref name="name"/>, else null.</summary>
    public static RegistryException? Check(NamespaceCreation setting, Actor actor, string name)
    {
        if (actor.IsSystem || (actor.IsUser && actor.IsAdmin))
        {
            return null;
        }

        return setting switch
        {
            NamespaceCreation.Users when actor.IsUser => null,
            NamespaceCreation.Personal when actor.IsUser && string.Equals(name, actor.Name, StringComparison.Ordinal) => null,
            _ => Refuse($"You may not create namespace '{name}': {Lower(Rule(setting, actor))}. Ask a server administrator to create '{name}' and give you a role in it."),
        };
    }

    /// <summary>
    /// The server's rule, for an actor it refuses, in words that do not say whether any namespace exists (it is also
    /// the hint of the 404 for a namespace the actor may not see).
    /// </summary>
    public static string Rule(NamespaceCreation setting, Actor actor) => setting == NamespaceCreation.Personal
        ? $"This server lets users create only their personal namespace, named as their user name ('{actor.Name}') (setting Registry:NamespaceCreation=Personal)"
        : "Only server administrators may create namespaces on this server (setting Registry:NamespaceCreation=Admins)";

    private static string Lower(string sentence) => char.ToLowerInvariant(sentence[0]) + sentence[1..];

    private static RegistryException Refuse(string message) =>
        new(ErrorCodes.NamespaceCreationForbidden, message, new Dictionary<string, object?> { ["setting"] = "Registry:NamespaceCreation" });
}
