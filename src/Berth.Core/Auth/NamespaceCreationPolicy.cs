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
            NamespaceCreation.Personal => Refuse($"Namespace '{name}' does not exist, and this server lets users create only their personal namespace, named as their user name ('{actor.Name}') (setting Registry:NamespaceCreation=Personal): ask a server administrator to create '{name}' and give you a role in it."),
            _ => Refuse($"Namespace '{name}' does not exist, and on this server only server administrators create namespaces (setting Registry:NamespaceCreation=Admins): ask one to create '{name}' and give you a role in it."),
        };
    }

    private static RegistryException Refuse(string message) =>
        new(ErrorCodes.NamespaceCreationForbidden, message, new Dictionary<string, object?> { ["setting"] = "Registry:NamespaceCreation" });
}
